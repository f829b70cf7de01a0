package twilio

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/twilio/twiliotest"
)

// TestSendErrorsClassified fails sends in the ways Twilio does: 429 and
// 5xx are worth retrying (after the Retry-After Twilio gave), 21610, 21211
// and 21614 are not, and no error quotes the number or the text.
func TestSendErrorsClassified(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	for i, c := range []struct {
		fail      twiliotest.Failure
		permanent bool
		delay     time.Duration
	}{
		{twiliotest.Failure{Status: 429, Code: 20429, RetryAfter: 7}, false, 7 * time.Second},
		{twiliotest.Failure{Status: 429, Code: 20429}, false, 0},
		{twiliotest.Failure{Status: 500, Code: 20500}, false, 0},
		{twiliotest.Failure{Status: 503}, false, 0},
		{twiliotest.Failure{Status: 401, Code: 20003}, false, 0},
		{twiliotest.Failure{Status: 400, Code: 21610}, true, 0},
		{twiliotest.Failure{Status: 400, Code: 21211}, true, 0},
		{twiliotest.Failure{Status: 400, Code: 21614}, true, 0},
		{twiliotest.Failure{Status: 400, Code: 21408}, true, 0},
	} {
		to := "+3725551000" + string(rune('0'+i))
		h.secret[to] = "number"
		h.api.Fail(to, c.fail)
		out := bot.Outgoing{Channel: bot.SMS, Address: to, PID: h.pid(to), Reply: bot.Reply{Text: "a private message text"}}
		err := h.ch.Send(ctx, out)
		var e *Error
		if !errors.As(err, &e) || e.Status != c.fail.Status || e.Code != c.fail.Code {
			t.Errorf("%+v: error %v", c.fail, err)
			continue
		}
		if errors.Is(err, bot.ErrPermanent) != c.permanent {
			t.Errorf("%+v: permanent %v, want %v", c.fail, !c.permanent, c.permanent)
		}
		var ra *bot.RetryAfter
		if got := errors.As(err, &ra); got != (c.delay > 0) || (got && ra.Delay != c.delay) {
			t.Errorf("%+v: retry after %v, want %v", c.fail, ra, c.delay)
		}
		if s := err.Error(); strings.Contains(s, to[1:]) || strings.Contains(s, "private") {
			t.Errorf("the error quotes the request: %s", s)
		}
		if stopped, _, _ := h.st.Standing(ctx, out.PID); stopped != (c.fail.Code == codeOptedOut) {
			t.Errorf("%+v: stopped %v", c.fail, stopped)
		}
	}
}

// TestSendNothingToAStoppedPerson drops a reply to a person who said STOP
// without asking Twilio.
func TestSendNothingToAStoppedPerson(t *testing.T) {
	h := newHarness(t, nil)
	to := "+37255510100"
	h.secret[to] = "number"
	pid := h.pid(to)
	if err := h.st.SetStopped(context.Background(), pid, true); err != nil {
		t.Fatal(err)
	}
	err := h.ch.Send(context.Background(), bot.Outgoing{Channel: bot.SMS, Address: to, PID: pid, Reply: bot.Reply{Text: "hello"}})
	if !errors.Is(err, bot.ErrPermanent) || h.api.Attempts() != 0 {
		t.Fatalf("error %v after %d calls", err, h.api.Attempts())
	}
}

// TestSendThroughMessagingService sends from the Messaging Service when one
// is set, on SMS and WhatsApp alike, unless a WhatsApp sender is set.
func TestSendThroughMessagingService(t *testing.T) {
	for _, c := range []struct {
		whatsAppFrom string
		service      bool
	}{{"", true}, {"whatsapp:+3725559999", false}} {
		h := newHarness(t, func(o *Options) {
			o.MessagingServiceSID, o.From, o.WhatsAppFrom = "MG0123456789abcdef0123456789abcdef", "", c.whatsAppFrom
		})
		to := "whatsapp:+37255510200"
		h.secret[to] = "number"
		if err := h.ch.Send(context.Background(), bot.Outgoing{Channel: bot.WhatsApp, Address: to, PID: h.pid(to), Reply: bot.Reply{Text: "hello"}}); err != nil {
			t.Fatal(err)
		}
		s := h.api.Sent()[0]
		if (s.MessagingServiceSID != "") != c.service || (!c.service && s.From != c.whatsAppFrom) || s.To != to {
			t.Fatalf("sent as %+v", s)
		}
	}
}

// TestStatusCallbacks counts the final delivery states, with no link to
// the person, and marks a person Twilio reports as opted out.
func TestStatusCallbacks(t *testing.T) {
	h := newHarness(t, nil)
	for range 2 { // Twilio sends a callback again when it had no answer
		for _, name := range []string{"courier_status_delivered.json", "courier_status_failed_21610_stop.json"} {
			form, err := url.ParseQuery(loadFixture(t, name).RawBody)
			if err != nil {
				t.Fatal(err)
			}
			if resp := h.post(statusPath, form); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("%s: status %d", name, resp.StatusCode)
			}
		}
	}
	h.secret["+12028831111"] = "number"
	h.waitCount("twilio.status.delivered", 1)
	h.waitCount("twilio.status.failed", 1)
	h.waitCount("twilio.opted_out", 1)
	stats, _ := h.st.Stats(context.Background(), time.Now())
	if stats["twilio.status.delivered"] != 1 || stats["twilio.opted_out"] != 1 {
		t.Fatalf("a callback sent twice counted twice: %v", stats)
	}
	if stopped, _, _ := h.st.Standing(context.Background(), h.pid("+12028831111")); !stopped {
		t.Fatal("error 21610 in a status callback did not stop the person")
	}
	form := url.Values{"MessageSid": {"SM" + strings.Repeat("b", 32)}, "MessageStatus": {"whatever<script>"}}
	if resp := h.post(statusPath, form); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("unknown state: status %d", resp.StatusCode)
	}
	stats, _ = h.st.Stats(context.Background(), time.Now())
	for k := range stats {
		if strings.Contains(k, "script") {
			t.Fatalf("a counter was named from the request: %q", k)
		}
	}
}

// TestSendKeepsToTheRate sends at most Rate messages a second per channel:
// with one message every 1000 seconds, a second send within the minute is
// refused at once, without a call, and WhatsApp has its own budget.
func TestSendKeepsToTheRate(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Rate = 0.001 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i, c := range []struct {
		ch   bot.Channel
		to   string
		fail bool
	}{
		{bot.SMS, "+37255510300", false},
		{bot.SMS, "+37255510301", true},
		{bot.WhatsApp, "whatsapp:+37255510302", false},
	} {
		h.secret[c.to] = "number"
		err := h.ch.Send(ctx, bot.Outgoing{Channel: c.ch, Address: c.to, PID: h.pid(c.to), Reply: bot.Reply{Text: "hello"}})
		if (err != nil) != c.fail {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if n := h.api.Attempts(); n != 2 {
		t.Fatalf("%d calls, want 2", n)
	}
}
