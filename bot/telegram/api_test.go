package telegram

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestAnswers: a call is a success only when the Bot API says ok, and then
// it is one even if its result does not read as expected: the message went
// out, and sending it again would repeat it.
func TestAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		id         int
		fails      bool
		wantStatus int // the failure's status
	}{
		{"sent", `{"ok":true,"result":{"message_id":77,"chat":{"id":1}}}`, 200, 77, false, 0},
		{"sent, result unreadable", `{"ok":true,"result":{"message_id":"seventy"}}`, 200, 0, false, 0},
		{"refused", `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user 1111111"}`, 403, 0, true, 403},
		{"not JSON", `<html>bad gateway</html>`, 502, 0, true, 502},
		{"cut short", `{"ok":tr`, 200, 0, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			api, err := NewAPI("1:T", srv.URL, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			id, err := api.SendText(context.Background(), 1111111, "hello", nil)
			if (err != nil) != tc.fails || id != tc.id {
				t.Fatalf("SendText: %d, %v", id, err)
			}
			if status(err) != tc.wantStatus {
				t.Fatalf("status of %v: %d, want %d", err, status(err), tc.wantStatus)
			}
		})
	}
}

// TestUpdatesAnswers: a getUpdates answer that is ok but holds no list is
// an error, so that polling backs off; an empty list is no error.
func TestUpdatesAnswers(t *testing.T) {
	for body, fails := range map[string]bool{
		`{"ok":true,"result":[]}`:                false,
		`{"ok":true,"result":[{"update_id":1}]}`: false,
		`{"ok":true,"result":{"update_id":1}}`:   true,
		`{"ok":true}`:                            true,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(body))
		}))
		api, err := NewAPI("1:T", srv.URL, srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		raws, err := api.updates(context.Background(), 0, time.Second)
		srv.Close()
		if (err != nil) != fails || (err == nil && raws == nil) {
			t.Errorf("%s: %d updates, %v", body, len(raws), err)
		}
	}
}
