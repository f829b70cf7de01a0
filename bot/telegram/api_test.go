package telegram

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
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
	}{
		{"sent", `{"ok":true,"result":{"message_id":77,"chat":{"id":1}}}`, 200, 77, false},
		{"sent, result unreadable", `{"ok":true,"result":{"message_id":"seventy"}}`, 200, 0, false},
		{"refused", `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user 1111111"}`, 403, 0, true},
		{"not JSON", `<html>bad gateway</html>`, 502, 0, true},
		{"cut short", `{"ok":tr`, 200, 0, true},
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
			if err != nil && status(err) != map[int]int{403: 403, 502: 502, 200: 0}[tc.status] {
				t.Fatalf("status of %v: %d", err, status(err))
			}
		})
	}
}
