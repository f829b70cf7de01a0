package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/webchat"
	"github.com/helpline/helpline/locales"
)

const testSecret = "a test secret that is long enough to use"

// TestWebChatSelfCheckThenErase runs the binary against a real Redis, walks
// the whole self-check in the web chat, asks to be forgotten, and checks
// that no key of the person is left and that the logs hold none of their
// words.
func TestWebChatSelfCheckThenErase(t *testing.T) {
	prefixRedis := redisServer.Client()
	defer prefixRedis.Close()
	srv := startServer(t, map[string]string{
		"HELPLINE_REDIS_URL": "redis://" + redisServer.Addr + "/0",
		"HELPLINE_SECRET":    testSecret,
		"HELPLINE_LOG_LEVEL": "debug",
	})
	cat, err := lang.Load(locales.FS())
	if err != nil {
		t.Fatal(err)
	}
	en := func(id string) string { s, _ := cat.Text("en", id, nil, nil); return s }

	token := webchat.NewToken()
	p := newWebPerson(t, srv.url, token, "en-GB,en;q=0.9")
	p.say("hello, my number is +37255512345")
	p.tap("English")
	p.tap(en("welcome.safe_yes"))
	r := p.tap(en("menu.selfcheck"))
	answered := 0
	for len(r.Choices) > 0 && r.Choices[0].Label == en("common.yes") {
		r = p.tap(en("common.yes"))
		answered++
	}
	if answered != selfcheckSigns(t) || !strings.Contains(r.Text, en("danger.offer")) {
		t.Fatalf("after %d yes answers, not free to leave and threats should offer an urgent counsellor first: %q", answered, r.Text)
	}
	if r = p.tap(en("selfcheck.see_result")); !strings.Contains(r.Text, fmt.Sprint(answered)) {
		t.Fatalf("the result should count %d signs: %q", answered, r.Text)
	}
	if code := p.post(map[string]string{"text": "forget me"}); code != http.StatusNoContent {
		t.Fatalf("erase: %d", code)
	}
	final := p.next()
	if string(final["end"]) != "true" || !strings.Contains(string(final["r"]), "erased") {
		t.Fatalf("the last event should end the stream with the erase confirmation: %s", final)
	}

	keys, err := secret.New([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	pid := keys.PersonID(bot.Web, token)
	left, err := prefixRedis.Keys(context.Background(), "*"+pid+"*").Result()
	if err != nil || len(left) != 0 {
		t.Fatalf("keys of the person left after erase: %v %v", left, err)
	}
	assertOutboxEmpty(t, prefixRedis, pid)

	logs := srv.logs.String()
	if !strings.Contains(logs, pid) {
		t.Fatalf("the logs should name the pseudonymous ID, to show they were read:\n%s", logs)
	}
	for _, secretWord := range []string{token, "+37255512345", "37255512345", "my number", "forget me"} {
		if strings.Contains(logs, secretWord) {
			t.Errorf("the logs contain %q", secretWord)
		}
	}
}

// assertOutboxEmpty checks that no outbox entry of pid is left: every reply
// was sent and removed. A sent entry is removed by the next commit in its
// partition or, within a few milliseconds, by delivery itself, so the check
// allows a few seconds.
func assertOutboxEmpty(t *testing.T, rdb *redis.Client, pid string) {
	t.Helper()
	ctx := context.Background()
	left := func() string {
		streams, _ := rdb.Keys(ctx, "hl:*:out").Result()
		for _, s := range streams {
			msgs, _ := rdb.XRange(ctx, s, "-", "+").Result()
			for _, m := range msgs {
				if m.Values["p"] == pid {
					return m.ID
				}
			}
		}
		return ""
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		id := left()
		if id == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("an outbox entry of the person is still there: %v", id)
		}
	}
}

func TestServeRefusesBadInput(t *testing.T) {
	srv := startServer(t, map[string]string{"HELPLINE_REDIS_URL": "redis://" + redisServer.Addr + "/1"})
	for name, body := range map[string]string{
		"not json":      "{",
		"no token":      `{"id":"a","text":"hi"}`,
		"short token":   `{"token":"abc","id":"a","text":"hi"}`,
		"empty message": `{"token":"` + webchat.NewToken() + `","id":"a"}`,
		"bad id":        `{"token":"` + webchat.NewToken() + `","id":"a b","text":"hi"}`,
	} {
		resp, err := http.Post(srv.url+"/chat/send", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, resp.StatusCode)
		}
	}
	if resp, _ := http.Get(srv.url + "/readyz"); resp == nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v", resp)
	}
}

// TestEmbeddedDefault runs with no configuration at all: an in-process
// Redis and a random secret serve a working web chat.
func TestEmbeddedDefault(t *testing.T) {
	srv := startServer(t, map[string]string{})
	if !strings.Contains(srv.logs.String(), "embedded in-memory Redis") || !strings.Contains(srv.logs.String(), "no HELPLINE_SECRET") {
		t.Fatalf("the demo mode must say so in the log:\n%s", srv.logs)
	}
	p := newWebPerson(t, srv.url, webchat.NewToken(), "ru")
	r := p.say("привет")
	if len(r.Choices) == 0 || r.Choices[0].Label != "Русский" {
		t.Fatalf("first reply %+v: want the language choice with Russian first", r)
	}
	// The next steps read and write a stored session in the embedded
	// Redis's own Lua.
	if r = p.tap("Русский"); len(r.Choices) == 0 {
		t.Fatalf("after choosing Russian: %+v, want the welcome's choices", r)
	}
	if again := p.tap(r.Choices[0].Label); again.Text == "" || again.Text == r.Text {
		t.Fatalf("the step after the welcome answered %+v", again)
	}
}

// TestTrickledBodiesAndIdleConnectionsAreCut: a body sent a byte at a time
// and a keep-alive connection left idle are closed by the server, as its
// timeouts say (shortened here).
func TestTrickledBodiesAndIdleConnectionsAreCut(t *testing.T) {
	saved := timeouts
	timeouts.header, timeouts.read, timeouts.idle = time.Second, 2*time.Second, 2*time.Second
	t.Cleanup(func() { timeouts = saved })
	srv := startServer(t, map[string]string{"HELPLINE_REDIS_URL": "redis://" + redisServer.Addr + "/1"})
	host := strings.TrimPrefix(srv.url, "http://")

	closedWithin := func(conn net.Conn, d time.Duration, trickle bool) bool {
		deadline := time.Now().Add(d)
		buf := make([]byte, 512)
		for time.Now().Before(deadline) {
			if trickle {
				if _, err := conn.Write([]byte("x")); err != nil {
					return true
				}
			}
			conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if _, err := conn.Read(buf); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return true // closed, or answered with an error and closed
			}
		}
		return false
	}
	trickler, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer trickler.Close()
	fmt.Fprintf(trickler, "POST /chat/send HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n", host)
	if !closedWithin(trickler, 20*time.Second, true) {
		t.Fatal("a body trickled a byte at a time kept its connection open")
	}

	idle, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", host)
	r := bufio.NewReader(idle)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if !closedWithin(idle, 20*time.Second, false) {
		t.Fatal("an idle keep-alive connection stayed open")
	}
}
