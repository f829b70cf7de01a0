package webchat_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow/flowtest"
	"github.com/helpline/helpline/bot/runner"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/store"
	"github.com/helpline/helpline/bot/store/redistest"
	"github.com/helpline/helpline/bot/webchat"
)

var server *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &server) }

type fixture struct {
	chat *webchat.Chat
	srv  *httptest.Server
	st   *store.Store
}

// newChat serves a web chat over the shipped content and a real Redis, with
// delivery running, as serve does.
func newChat(t testing.TB, opts webchat.Options) fixture {
	t.Helper()
	engine, cat := flowtest.Shipped(t)
	rdb := server.Client()
	st := store.New(rdb, store.Options{Prefix: t.Name(), Partitions: 2})
	keys, _ := secret.New([]byte("webchat tests use this secret, 32+ bytes"))
	log := slog.New(slog.DiscardHandler)
	disp := runner.NewDispatcher(runner.Config{Engine: engine, Store: st, Keys: keys, Log: log})
	chat := webchat.New(disp, st, cat, log, opts)
	mux := http.NewServeMux()
	chat.Routes(mux)
	srv := httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	delivery := runner.NewDelivery(st, keys, map[bot.Channel]bot.Sender{bot.Web: chat}, nil, log, runner.DeliveryOptions{Block: 100 * time.Millisecond})
	done := make(chan struct{}, 2)
	go func() { chat.Run(ctx); done <- struct{}{} }()
	go func() { delivery.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() {
		chat.Close()
		srv.Close()
		cancel()
		<-done
		<-done
		rdb.Close()
	})
	return fixture{chat: chat, srv: srv, st: st}
}

func post(t testing.TB, url, body string) int {
	t.Helper()
	resp, err := http.Post(url+"/chat/send", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// events opens the event stream and returns its events' lines as they come.
func events(t *testing.T, url, token, lastID string) <-chan string {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/chat/events?token="+token, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan string, 32)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "id: ") || strings.HasPrefix(l, "data: ") {
				out <- l
			}
		}
		close(out)
	}()
	return out
}

func next(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok {
			t.Fatal("the stream ended")
		}
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("nothing on the stream within 10s")
	}
	return ""
}

func TestReconnectingPageGetsWhatItMissed(t *testing.T) {
	f := newChat(t, webchat.Options{})
	token := webchat.NewToken()
	first := events(t, f.srv.URL, token, "")
	if code := post(t, f.srv.URL, `{"token":"`+token+`","id":"a","text":"hi"}`); code != http.StatusNoContent {
		t.Fatalf("send: %d", code)
	}
	id := strings.TrimPrefix(next(t, first), "id: ")
	firstData := next(t, first)
	if !strings.Contains(firstData, "welcome/") {
		t.Fatalf("first reply %q", firstData)
	}
	// The page goes away; a reply arrives meanwhile; the page comes back.
	if code := post(t, f.srv.URL, `{"token":"`+token+`","id":"b","choice":"welcome/choose_language/et"}`); code != http.StatusNoContent {
		t.Fatalf("send: %d", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		// A page that says which reply it saw last gets only the ones after.
		again := events(t, f.srv.URL, token, id)
		l := next(t, again)
		if strings.HasPrefix(l, "id: ") && strings.TrimPrefix(l, "id: ") != id {
			if data := next(t, again); data == firstData || !strings.Contains(data, `"t":"`) {
				t.Fatalf("the missed reply: %q", data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the missed reply never came")
		}
	}
}

func TestSendRefusesBadRequestsAndLimitsRate(t *testing.T) {
	f := newChat(t, webchat.Options{PerToken: 3})
	token := webchat.NewToken()
	for _, body := range []string{"", "{", "[]", `{"token":"` + token + `"}`, `{"token":"x","id":"a","text":"hi"}`, `{"token":"` + token + `","id":"a","text":"` + strings.Repeat("x", 9000) + `"}`} {
		if code := post(t, f.srv.URL, body); code != http.StatusBadRequest {
			t.Errorf("%.40q: status %d, want 400", body, code)
		}
	}
	codes := []int{}
	for i := range 5 {
		codes = append(codes, post(t, f.srv.URL, fmt.Sprintf(`{"token":"%s","id":"m%d","text":"hi"}`, token, i)))
	}
	if codes[0] != http.StatusNoContent || codes[4] != http.StatusTooManyRequests {
		t.Fatalf("statuses %v: want the first accepted and the fifth refused at 3 a minute", codes)
	}
}

func TestPageSpeaksTheBrowsersLanguageAndLoadsNothingFromElsewhere(t *testing.T) {
	f := newChat(t, webchat.Options{ExitURL: "https://weather.example/"})
	req, _ := http.NewRequest("GET", f.srv.URL+"/", nil)
	req.Header.Set("Accept-Language", "ru-RU,ru;q=0.9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		page.WriteString(sc.Text() + "\n")
	}
	body := page.String()
	for _, want := range []string{`<html lang="ru">`, "Быстрый выход", "https://weather.example/"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"http://", "//cdn", "<script>"} {
		if strings.Contains(body, bad) {
			t.Errorf("page holds %q: nothing may load from elsewhere or run inline", bad)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q: a shared phone must not keep the page", cc)
	}
}

// FuzzSend posts any body to one running chat: the handler answers 204 or
// 400 and never crashes.
func FuzzSend(f *testing.F) {
	f.Add(`{"token":"AAAAAAAAAAAAAAAAAAAAAA","id":"a","text":"hi"}`)
	f.Add(`{"token":"AAAAAAAAAAAAAAAAAAAAAA","id":"a","choice":"menu/main/0"}`)
	f.Add(`{"token":1}`)
	fx := newChat(f, webchat.Options{PerToken: 1 << 30, PerIP: 1 << 30})
	f.Fuzz(func(t *testing.T, body string) {
		code := post(t, fx.srv.URL, body)
		if code != http.StatusNoContent && code != http.StatusBadRequest {
			t.Fatalf("status %d for %q", code, body)
		}
	})
}
