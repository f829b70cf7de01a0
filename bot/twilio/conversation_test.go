package twilio

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/sms"
)

// toSelfCheck walks an Estonian number from its first message to the
// self-check's first question, answering by number and by word.
func (h *harness) toSelfCheck(from string) string {
	h.t.Helper()
	if r := h.say(from, "tere"); !strings.Contains(r, h.text("et", "welcome.language")) || !strings.Contains(r, "1. Eesti") {
		h.t.Fatalf("an Estonian number's first reply is the language question in Estonian, Estonian first:\n%s", r)
	}
	h.say(from, "eesti")
	h.say(from, "1")
	r := h.say(from, "2")
	if !strings.Contains(r, h.text("et", "selfcheck.q_docs")) || !strings.Contains(r, "4. Ei taha öelda") {
		h.t.Fatalf("the self-check's first question, numbered:\n%s", r)
	}
	return r
}

// TestAnswerByNumberWordOrWithoutDiacritics answers one question three
// ways: by its number, by its label, and by the label typed without its
// diacritics. All three pick the same choice.
func TestAnswerByNumberWordOrWithoutDiacritics(t *testing.T) {
	h := newHarness(t, nil)
	answers := map[string]string{"+37255500001": "4", "+37255500002": "Ei taha öelda", "+37255500003": "ei taha oelda"}
	var next []string
	for from, answer := range answers {
		h.toSelfCheck(from)
		next = append(next, h.say(from, answer))
	}
	if !strings.Contains(next[0], h.text("et", "selfcheck.q_debt")) {
		t.Fatalf("skipping the first question leads to the second:\n%s", next[0])
	}
	if next[1] != next[0] || next[2] != next[0] {
		t.Fatalf("the three answers led to different replies:\n%s\n--\n%s\n--\n%s", next[0], next[1], next[2])
	}
}

// TestReplayedMessageChangesNothing posts one MessageSid twice: the second
// post is answered, and changes and sends nothing.
func TestReplayedMessageChangesNothing(t *testing.T) {
	h := newHarness(t, nil)
	from := "+37255500010"
	h.say(from, "tere")
	sid := h.send(from, "eesti")
	h.reply(from)
	before, _ := h.st.Load(context.Background(), h.pid(from))
	h.sendAs(sid, from, "eesti")
	after, _ := h.st.Load(context.Background(), h.pid(from))
	if after.Version != before.Version {
		t.Fatalf("the replay changed the session: version %d, then %d", before.Version, after.Version)
	}
	// The replay's reply, had there been one, would come before this one.
	r := h.say(from, "1")
	if !strings.Contains(r, h.text("et", "menu.question")) {
		t.Fatalf("after the replay the conversation goes on where it was:\n%s", r)
	}
	if n := len(h.api.Sent()); n != 3 {
		t.Fatalf("%d messages sent for 3 distinct messages and a replay", n)
	}
	h.waitCount("in.sms", 3)
	if stats, _ := h.st.Stats(context.Background(), time.Now()); stats["in.sms"] != 3 {
		t.Fatalf("the replay was counted: in.sms = %d", stats["in.sms"])
	}
}

// TestStopInEstonianAndRussian says STOP in the person's language in the
// middle of a conversation: the person is marked stopped, their session is
// erased, nothing is sent, their next messages are dropped unread, and
// START lets them in again.
func TestStopInEstonianAndRussian(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	for i, c := range []struct{ from, hello, stop, start string }{
		{"+37255500020", "tere", "STOPP", "alusta"},
		{"+79161234567", "привет", "Стоп", "старт"},
	} {
		h.say(c.from, c.hello)
		h.send(c.from, c.stop)
		pid := h.pid(c.from)
		if stopped, session, err := h.st.Standing(ctx, pid); err != nil || !stopped || session {
			t.Fatalf("%s: after STOP the person is stopped (%v) with no session (%v): %v", c.stop, stopped, session, err)
		}
		if n, _ := h.st.PersonKeys(ctx, pid); n != 0 {
			t.Fatalf("%s: %d keys of the person left", c.stop, n)
		}
		// The erase's own reply reaches the sender, which drops it.
		h.waitCount("send.permanent", int64(i+1))
		h.send(c.from, "anybody there")
		h.waitCount("twilio.stopped_in", int64(i+1))
		if _, session, _ := h.st.Standing(ctx, pid); session {
			t.Fatalf("%s: a stopped person's message was kept", c.stop)
		}
		if sent := h.api.WaitSent(t, c.from, 1); len(sent) != 1 {
			t.Fatalf("%s: %d messages sent, want only the first reply", c.stop, len(sent))
		}
		if r := h.say(c.from, c.start); !strings.Contains(r, "1. ") {
			t.Fatalf("%s: START lets the person in again, with the welcome:\n%s", c.start, r)
		}
	}
}

// TestTwilioOptOutFieldStops honours Twilio's own reading of a keyword.
func TestTwilioOptOutFieldStops(t *testing.T) {
	h := newHarness(t, nil)
	from := "+37255500030"
	h.say(from, "tere")
	form := map[string][]string{"MessageSid": {"SM" + strings.Repeat("a", 32)}, "From": {from}, "Body": {"lõpetage palun"}, "OptOutType": {"STOP"}}
	if resp := h.post(inboundPath, form); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if stopped, _, _ := h.st.Standing(context.Background(), h.pid(from)); !stopped {
		t.Fatal("OptOutType=STOP did not stop the person")
	}
}

// TestNeutralFirstReply: in neutral mode the first reply names nothing, the
// choices stay, and the conversation goes on as usual; a first message with
// danger words still gets the emergency numbers.
func TestNeutralFirstReply(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.Neutral = true
		o.Urgent = func(r bot.Reply) bool { return len(r.Choices) > 0 && strings.HasPrefix(r.Choices[0].ID, "danger/") }
	})
	from := "+37255500040"
	r := h.say(from, "tere")
	want := h.text("et", "sms.neutral")
	for i, l := range append([]string{"et"}, slices.DeleteFunc(slices.Clone(h.cat.Languages()), func(l string) bool { return l == "et" })...) {
		want += fmt.Sprintf("\n%d. %s", i+1, h.text(l, "language.name"))
	}
	if r != want {
		t.Fatalf("neutral first reply:\n%s\nwant:\n%s", r, want)
	}
	if r := h.say(from, "1"); !strings.Contains(r, h.text("et", "welcome.safe_now")) {
		t.Fatalf("the second reply is the usual one:\n%s", r)
	}
	danger := "+37255500041"
	if r := h.say(danger, "appi"); !strings.Contains(r, "112") || strings.HasPrefix(r, h.text("et", "sms.neutral")) {
		t.Fatalf("danger words are answered with the emergency numbers, neutral mode or not:\n%s", r)
	}
}

// TestHelpIsShortOnSMS answers HELP with the SMS variants of the help
// messages, in at most three segments each.
func TestHelpIsShortOnSMS(t *testing.T) {
	h := newHarness(t, nil)
	from := "+79161234500"
	h.say(from, "привет")
	r := h.say(from, "справка")
	short := h.text("ru", "help.words.sms")
	if !strings.Contains(r, short) || strings.Contains(r, h.text("ru", "help.words")) {
		t.Fatalf("HELP by SMS should use the short help:\n%s", r)
	}
	if n, _ := sms.Segments(short); n > sms.MaxSegments {
		t.Fatalf("the short help takes %d segments", n)
	}
}

// TestWhatsAppExchange keeps the whatsapp: address, answers from the
// WhatsApp sender and never uses the SMS variant.
func TestWhatsAppExchange(t *testing.T) {
	h := newHarness(t, nil)
	from := "whatsapp:+37255500050"
	h.say(from, "tere")
	sent := h.api.WaitSent(t, from, 1)
	if sent[0].From != "whatsapp:+3725550000" || sent[0].StatusCallback != testURL+"/twilio/status" {
		t.Fatalf("WhatsApp reply sent as %+v", sent[0])
	}
	h.say(from, "eesti")
	h.say(from, "1")
	if r := h.say(from, "juhend"); !strings.Contains(r, h.text("et", "help.words")) {
		t.Fatalf("WhatsApp gets the full help, not the SMS variant:\n%s", r)
	}
}
