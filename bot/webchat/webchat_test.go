package webchat_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
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
	disp *runner.Dispatcher
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
	chat := webchat.New(disp, engine, st, keys, cat, log, opts)
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
	return fixture{chat: chat, srv: srv, st: st, disp: disp}
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
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	resp, err := webchat.Dial(ctx, url, token, lastID)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("events: %s", resp.Status)
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

// TestTokenNeverTravelsInAURL: the stream opens with a one-time ticket; the
// token in a URL, a spent ticket and a made-up one open nothing.
func TestTokenNeverTravelsInAURL(t *testing.T) {
	f := newChat(t, webchat.Options{})
	token := webchat.NewToken()
	get := func(query string) int {
		resp, err := http.Get(f.srv.URL + "/chat/events?" + query)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("token=" + token); code != http.StatusBadRequest {
		t.Fatalf("a stream opened by token in the URL: %d, want 400", code)
	}
	if code := get("ticket=" + webchat.NewToken()); code != http.StatusForbidden {
		t.Fatalf("a made-up ticket: %d, want 403", code)
	}
	resp, err := http.Post(f.srv.URL+"/chat/ticket", "application/json", strings.NewReader(`{"token":"`+token+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tk struct{ Ticket string }
	json.NewDecoder(resp.Body).Decode(&tk)
	resp.Body.Close()
	if tk.Ticket == "" || strings.Contains(tk.Ticket, token) {
		t.Fatalf("ticket %q", tk.Ticket)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/chat/events?ticket="+tk.Ticket, nil)
	first, err := http.DefaultClient.Do(req)
	if err != nil || first.StatusCode != http.StatusOK {
		t.Fatalf("the ticket's first use: %v %v", first, err)
	}
	cancel()
	first.Body.Close()
	if code := get("ticket=" + tk.Ticket); code != http.StatusForbidden {
		t.Fatalf("a spent ticket: %d, want 403", code)
	}
	js, err := http.Get(f.srv.URL + "/chat/app.js")
	if err != nil {
		t.Fatal(err)
	}
	defer js.Body.Close()
	src, _ := io.ReadAll(js.Body)
	if strings.Contains(string(src), "token=") {
		t.Fatal("the page still puts the token in a URL")
	}
}

// TestRepliesAreSealedInTheMailbox: what waits for a page in Redis is
// sealed with the person's key, and the page still reads it.
func TestRepliesAreSealedInTheMailbox(t *testing.T) {
	f := newChat(t, webchat.Options{})
	token := webchat.NewToken()
	stream := events(t, f.srv.URL, token, "")
	if code := post(t, f.srv.URL, `{"token":"`+token+`","id":"a","text":"hi"}`); code != http.StatusNoContent {
		t.Fatalf("send: %d", code)
	}
	next(t, stream)
	if data := next(t, stream); !strings.Contains(data, "welcome/") {
		t.Fatalf("the page got %q", data)
	}
	rdb := server.Client()
	defer rdb.Close()
	keys, _ := rdb.Keys(context.Background(), t.Name()+":*w:*").Result()
	if len(keys) != 1 {
		t.Fatalf("mailboxes %v", keys)
	}
	msgs, _ := rdb.XRange(context.Background(), keys[0], "-", "+").Result()
	if len(msgs) == 0 {
		t.Fatal("the mailbox is empty")
	}
	for _, m := range msgs {
		for _, v := range m.Values {
			if s, _ := v.(string); strings.Contains(s, "welcome") || strings.Contains(s, `"t"`) {
				t.Fatalf("a reply sits in clear in the mailbox: %.80q", s)
			}
		}
	}
}

// TestOpenStreamsAreCapped: one person cannot hold more than a few streams.
func TestOpenStreamsAreCapped(t *testing.T) {
	f := newChat(t, webchat.Options{StreamsPerToken: 2})
	token := webchat.NewToken()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range 2 {
		resp, err := webchat.Dial(ctx, f.srv.URL, token, "")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("stream %d: %v %v", i, resp, err)
		}
		defer resp.Body.Close()
	}
	resp, err := webchat.Dial(ctx, f.srv.URL, token, "")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a third stream: %d, want 429", resp.StatusCode)
	}
	other, err := webchat.Dial(ctx, f.srv.URL, webchat.NewToken(), "")
	if err != nil || other.StatusCode != http.StatusOK {
		t.Fatalf("another person's stream: %v %v", other, err)
	}
	other.Body.Close()
}

// TestPageGreetsWithoutState: the page carries the greeting in the
// browser's language, and a page view leaves nothing in Redis.
func TestPageGreetsWithoutState(t *testing.T) {
	f := newChat(t, webchat.Options{})
	_, cat := flowtest.Shipped(t)
	req, _ := http.NewRequest("GET", f.srv.URL+"/", nil)
	req.Header.Set("Accept-Language", "et-EE,et;q=0.9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	hello, _ := cat.Text("et", "welcome.hello.web", nil, nil)
	page := string(body)
	for _, want := range []string{`<html lang="et">`, template.HTMLEscapeString(hello), `data-choice="welcome/choose_language/ru"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if keys := personKeys(t); len(keys) > 0 {
		t.Fatalf("a page view stored %q", keys)
	}
}

// TestWordsFollowTheLanguage: the page's words come in any shipped
// language, and an unknown one is refused.
func TestWordsFollowTheLanguage(t *testing.T) {
	f := newChat(t, webchat.Options{})
	_, cat := flowtest.Shipped(t)
	get := func(lang string) (int, map[string]string) {
		resp, err := http.Get(f.srv.URL + "/chat/words?lang=" + lang)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var w map[string]string
		json.NewDecoder(resp.Body).Decode(&w)
		return resp.StatusCode, w
	}
	code, w := get("lt")
	send, _ := cat.Text("lt", "web.send", nil, nil)
	if code != http.StatusOK || w["send"] != send || !strings.Contains(w["progress"], "{n}") || !strings.Contains(w["progress"], "{total}") {
		t.Fatalf("Lithuanian words: %d %v", code, w)
	}
	for _, bad := range []string{"", "xx", "../en", "EN"} {
		if code, _ := get(bad); code != http.StatusNotFound {
			t.Errorf("lang %q: %d, want 404", bad, code)
		}
	}
}

// TestRepliesSayLanguageAndSpeaker: what the page receives names the
// reply's language, a counsellor as the speaker, and the case's state.
func TestRepliesSayLanguageAndSpeaker(t *testing.T) {
	f := newChat(t, webchat.Options{})
	token := webchat.NewToken()
	ev := events(t, f.srv.URL, token, "")
	if code := post(t, f.srv.URL, `{"token":"`+token+`","id":"a","choice":"welcome/choose_language/uk"}`); code != http.StatusNoContent {
		t.Fatalf("send: %d", code)
	}
	read := func() map[string]any {
		t.Helper()
		for {
			if l := next(t, ev); strings.HasPrefix(l, "data: ") {
				var m map[string]any
				if err := json.Unmarshal([]byte(strings.TrimPrefix(l, "data: ")), &m); err != nil {
					t.Fatal(err)
				}
				return m
			}
		}
	}
	if m := read(); m["lang"] != "uk" || m["from"] != nil {
		t.Fatalf("the answer to the greeting: %v", m)
	}
	for i, e := range []bot.Event{bot.Claimed, bot.CounsellorSaid} {
		in := bot.Inbound{Event: e, Channel: bot.Web, Address: token, ID: fmt.Sprint("c", i), Text: "Привіт"}
		if err := f.disp.Handle(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	if m := read(); m["case"] != "held" || m["from"] != nil {
		t.Fatalf("joined: %v", m)
	}
	if m := read(); m["from"] != "counsellor" || m["t"] != "Привіт" || m["case"] != "held" {
		t.Fatalf("the counsellor's message: %v", m)
	}
}

// personKeys lists the keys of this test that belong to a person: a
// session, a mailbox, dedupe marks, a stream ticket.
func personKeys(t *testing.T) []string {
	t.Helper()
	keys, err := server.Client().Keys(context.Background(), t.Name()+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(keys, func(k string) bool {
		return !strings.Contains(k, ":s:") && !strings.Contains(k, ":w:") && !strings.Contains(k, ":tk:") && !strings.HasSuffix(k, ":dd")
	})
}
