package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot/store/redistest"
)

// TestReadyWhileRedisStalls: while Redis stalls, /readyz answers 503 before
// the stall ends, says so once in the logs, and is ready again after.
func TestReadyWhileRedisStalls(t *testing.T) {
	stalled, err := redistest.Start("--enable-debug-command", "yes")
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	srv := startServer(t, map[string]string{"HELPLINE_REDIS_URL": "redis://" + stalled.Addr + "/0", "HELPLINE_SECRET": testSecret})
	if resp, err := http.Get(srv.url + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz before the stall: %v %v", resp, err)
	}
	admin := stalled.Client()
	defer admin.Close()
	slept := make(chan struct{})
	go func() {
		admin.Do(context.Background(), "DEBUG", "SLEEP", "4")
		close(slept)
	}()
	time.Sleep(100 * time.Millisecond) // let the stall begin
	for range 2 {
		resp, err := http.Get(srv.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		select {
		case <-slept:
			t.Fatal("/readyz answered only after the stall ended")
		default:
		}
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("readyz during the stall: %d, want 503", resp.StatusCode)
		}
	}
	<-slept
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(srv.url + "/readyz")
		if err == nil && resp.StatusCode == http.StatusOK {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready again after the stall")
		}
	}
	if n := strings.Count(srv.logs.String(), `"not ready"`); n != 1 {
		t.Fatalf("the stall was logged %d times, want once:\n%s", n, srv.logs)
	}
	if !strings.Contains(srv.logs.String(), "ready again") {
		t.Fatal("the end of the stall was not logged")
	}
}

// TestSecureCookiesByDefault: the console cookie is Secure unless the server
// serves loopback alone or the setting says false.
func TestSecureCookiesByDefault(t *testing.T) {
	for _, c := range []struct {
		addr, set string
		want      bool
	}{
		{":8080", "", true}, {"0.0.0.0:8080", "", true}, {"10.1.2.3:80", "", true},
		{"localhost:8080", "", false}, {"127.0.0.1:0", "", false}, {"[::1]:8080", "", false},
		{":8080", "false", false}, {"localhost:8080", "true", true},
	} {
		cfg := config{Addr: c.addr, secureSet: c.set}
		cfg.secureCookies()
		if cfg.Secure != c.want {
			t.Errorf("addr %q, HELPLINE_CONSOLE_SECURE=%q: Secure %v, want %v", c.addr, c.set, cfg.Secure, c.want)
		}
	}
	if _, err := readConfig(func(k string) string {
		return map[string]string{"HELPLINE_CONSOLE_SECURE": "yes"}[k]
	}); err == nil {
		t.Error("HELPLINE_CONSOLE_SECURE=yes was accepted")
	}
}

// TestDemoStaysOnThisMachine: with no Redis URL, the embedded demo refuses
// an address other machines reach, unless told so.
func TestDemoStaysOnThisMachine(t *testing.T) {
	env := map[string]string{"HELPLINE_ADDR": ":0"}
	var out strings.Builder
	err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HELPLINE_DEMO_ANYWHERE") {
		t.Fatalf("the demo on every interface: %v", err)
	}
	if strings.Contains(out.String(), "password") {
		t.Fatalf("a demo password was printed for a demo that does not run: %q", out.String())
	}
}

// TestHelpAndUsage: -h and --help print the usage and start nothing; serve
// refuses arguments it does not take.
func TestHelpAndUsage(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"serve", "--help"}} {
		var out strings.Builder
		if err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, io.Discard); err != nil || !strings.Contains(out.String(), "usage: helpline") {
			t.Errorf("%q: %v %q", args, err, out.String())
		}
	}
	if err := run(context.Background(), []string{"serve", "--port=9"}, func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "HELPLINE_") {
		t.Errorf("serve with a flag it does not take: %v", err)
	}
}
