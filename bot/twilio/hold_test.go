package twilio

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot/store/redistest"
)

// TestMessagesHeldThroughRedisOutage writes while Redis is down: each
// message is answered 503 and held. Once Redis is back both are answered,
// in the order they came, with no retry from Twilio. Twilio's retry of a
// held message is not held twice, and a retry after it went through is
// ignored.
func TestMessagesHeldThroughRedisOutage(t *testing.T) {
	srv, err := redistest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	h := newHarnessOn(t, srv, nil)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(h.logs.Name())
			t.Log(string(b))
		}
	})
	from, control := "+37255500070", "+37255500071"

	srv.Kill()
	if status := h.postMessage("SM00000000000000000000000000000a01", from, "tere"); status != http.StatusServiceUnavailable {
		t.Fatalf("a message while Redis is down: status %d, want 503", status)
	}
	if status := h.postMessage("SM00000000000000000000000000000a02", from, "eesti"); status != http.StatusServiceUnavailable {
		t.Fatalf("the next message while Redis is down: status %d, want 503", status)
	}
	if status := h.postMessage("SM00000000000000000000000000000a01", from, "tere"); status != http.StatusServiceUnavailable {
		t.Fatalf("Twilio's retry while Redis is down: status %d, want 503", status)
	}
	if n := h.ch.hold.count(); n != 2 {
		t.Fatalf("%d messages held, want 2: a retry is not held twice", n)
	}
	time.Sleep(1500 * time.Millisecond) // a retry round or two fails
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}

	first, second := h.reply(from), h.reply(from)
	// The same two messages written with Redis up give the replies to
	// compare with.
	if want := h.say(control, "tere"); first != want {
		t.Fatalf("the first held message's reply:\n%s\nwant:\n%s", first, want)
	}
	if want := h.say(control, "eesti"); second != want {
		t.Fatalf("the second held message's reply (out of order?):\n%s\nwant:\n%s", second, want)
	}
	if n := h.ch.hold.count(); n != 0 {
		t.Fatalf("%d messages still held", n)
	}
	h.sendAs("SM00000000000000000000000000000a01", from, "tere") // Twilio's late retry
	r := h.say(from, "1")
	if strings.Contains(r, h.text("et", "welcome.language")) {
		t.Fatalf("the late retry was taken as a new message:\n%s", r)
	}
	if n := len(h.api.WaitSent(t, from, 3)); n != 3 {
		t.Fatalf("%d messages sent for three messages and two retries", n)
	}
}
