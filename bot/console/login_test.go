package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot/store"
	"github.com/helpline/helpline/bot/store/redistest"
)

var server *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &server) }

// loginConsole is a console over a real Redis with one account, anna.
func loginConsole(t *testing.T) (*Console, *store.Store) {
	t.Helper()
	rdb := server.Client()
	t.Cleanup(func() { rdb.Close() })
	st := store.New(rdb, store.Options{Prefix: strings.ReplaceAll(t.Name(), "/", "_")})
	hash, err := HashPassword("anna's own password")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddAccount(context.Background(), store.Account{Name: "anna", Hash: hash, Role: "counsellor", Langs: []string{"en"}, Capacity: 2, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return New(st, nil, nil, slog.New(slog.DiscardHandler), time.Now, Options{}), st
}

func tryLogin(c *Console, from, name, password string) int {
	form := url.Values{"name": {name}, "password": {password}}
	r := httptest.NewRequest("POST", "/console/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = from + ":40000"
	w := httptest.NewRecorder()
	c.login(w, r)
	return w.Code
}

// TestWrongPasswordsElsewhereDoNotLockTheCounsellorOut: a stranger's wrong
// guesses slow the stranger, not the counsellor at her own address.
func TestWrongPasswordsElsewhereDoNotLockTheCounsellorOut(t *testing.T) {
	c, _ := loginConsole(t)
	for i := range 6 {
		if code := tryLogin(c, "192.0.2.66", "anna", "guess"); code != http.StatusUnauthorized && code != http.StatusTooManyRequests {
			t.Fatalf("wrong guess %d: %d", i, code)
		}
	}
	if code := tryLogin(c, "192.0.2.66", "anna", "anna's own password"); code != http.StatusTooManyRequests {
		t.Fatalf("the guesser's address, right password: %d, want 429", code)
	}
	if code := tryLogin(c, "198.51.100.7", "anna", "anna's own password"); code != http.StatusSeeOther {
		t.Fatalf("anna from her own address: %d, want 303", code)
	}
}

// TestBadNamesCostNothing: a name that is no account name is refused before
// any Redis key or password check, whatever its length.
func TestBadNamesCostNothing(t *testing.T) {
	c, _ := loginConsole(t)
	rdb := server.Client()
	defer rdb.Close()
	before, _ := rdb.Keys(context.Background(), "*").Result()
	huge := strings.Repeat("x", 1<<20)
	for _, name := range []string{huge, "a", "anna smith", "<script>", "анна"} {
		if code := tryLogin(c, "192.0.2.1", name, "whatever"); code != http.StatusUnauthorized {
			t.Fatalf("name of %d bytes: %d, want 401", len(name), code)
		}
	}
	after, _ := rdb.Keys(context.Background(), "*").Result()
	if len(after) != len(before) {
		t.Fatalf("refused names left keys: %v", after)
	}
}

// TestPasswordChecksAreBounded: when every slot for a password check is
// taken, a login is told to try again instead of hashing.
func TestPasswordChecksAreBounded(t *testing.T) {
	c, _ := loginConsole(t)
	for range cap(c.hashing) {
		c.hashing <- struct{}{}
	}
	if code := tryLogin(c, "192.0.2.2", "anna", "anna's own password"); code != http.StatusTooManyRequests {
		t.Fatalf("with no free slot: %d, want 429", code)
	}
	for range cap(c.hashing) {
		<-c.hashing
	}
	if code := tryLogin(c, "192.0.2.2", "anna", "anna's own password"); code != http.StatusSeeOther {
		t.Fatalf("with slots free: %d, want 303", code)
	}
}

// streamingConsole serves a console with its note listener running, and
// logs anna in; it returns the server and her cookie.
func streamingConsole(t *testing.T) (*httptest.Server, *store.Store, *http.Cookie) {
	t.Helper()
	c, st := loginConsole(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	mux := http.NewServeMux()
	c.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { c.Close(); srv.Close(); cancel(); <-done })
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(srv.URL+"/console/login", url.Values{"name": {"anna"}, "password": {"anna's own password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == cookieName && ck.Value != "" {
			return srv, st, ck
		}
	}
	t.Fatalf("no login: %s", resp.Status)
	return nil, nil, nil
}

// openStream opens the console's event stream; ended is closed when the
// server ends it.
func openStream(t *testing.T, srv *httptest.Server, ck *http.Cookie) (status int, ended <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/console/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.AddCookie(ck)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, resp.Body); resp.Body.Close(); close(done) }()
	return resp.StatusCode, done
}

func waitEnded(t *testing.T, ended <-chan struct{}, why string) {
	t.Helper()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatalf("the stream stayed open after %s", why)
	}
}

// TestStreamsEndWithTheirLogin: logging out or disabling the account closes
// the streams the login opened, and re-enabling it revives no old login.
func TestStreamsEndWithTheirLogin(t *testing.T) {
	srv, st, ck := streamingConsole(t)
	code, ended := openStream(t, srv, ck)
	if code != http.StatusOK {
		t.Fatalf("stream: %d", code)
	}
	l, _, _ := st.Login(context.Background(), hashToken(ck.Value))
	req, _ := http.NewRequest("POST", srv.URL+"/console/logout", strings.NewReader(url.Values{"csrf": {l.CSRF}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(ck)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %v %v", resp, err)
	}
	resp.Body.Close()
	waitEnded(t, ended, "logout")

	t.Run("disabled", func(t *testing.T) {
		srv, st, ck := streamingConsole(t)
		code, ended := openStream(t, srv, ck)
		if code != http.StatusOK {
			t.Fatalf("stream: %d", code)
		}
		if err := st.SetDisabled(context.Background(), "anna", true); err != nil {
			t.Fatal(err)
		}
		waitEnded(t, ended, "the account was disabled")
		if err := st.SetDisabled(context.Background(), "anna", false); err != nil {
			t.Fatal(err)
		}
		if code, _ := openStream(t, srv, ck); code != http.StatusUnauthorized {
			t.Fatalf("a login from before the account was disabled: %d, want 401", code)
		}
	})
}

// TestStreamsPerLoginAreCapped: one login holds a few streams, not hundreds.
func TestStreamsPerLoginAreCapped(t *testing.T) {
	srv, _, ck := streamingConsole(t)
	for i := range streamsPerLogin {
		if code, _ := openStream(t, srv, ck); code != http.StatusOK {
			t.Fatalf("stream %d: %d", i, code)
		}
	}
	if code, _ := openStream(t, srv, ck); code != http.StatusTooManyRequests {
		t.Fatalf("one stream too many: %d, want 429", code)
	}
}
