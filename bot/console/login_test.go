package console

import (
	"context"
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
