package telegram_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/telegram"
	"github.com/helpline/helpline/bot/telegram/telegramtest"
)

// flaky fails the first n messages whose text is text, as a Redis that
// went away would.
type flaky struct {
	telegram.Dispatcher
	text string
	mu   sync.Mutex
	n    int
}

func (f *flaky) Handle(ctx context.Context, in bot.Inbound) error {
	f.mu.Lock()
	fail := in.Text == f.text && f.n > 0
	if fail {
		f.n--
	}
	f.mu.Unlock()
	if fail {
		return errors.New("redis is away")
	}
	return f.Dispatcher.Handle(ctx, in)
}

func (f *flaky) left() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// TestPolling talks through getUpdates: the webhook is deleted first,
// replies come, taps are answered with answerCallbackQuery, and the offset
// moves past an update only once it is committed.
func TestPolling(t *testing.T) {
	t.Parallel()
	fl := &flaky{text: "second", n: 2}
	h := newHarness(t, setup{
		opts: func(o *telegram.Options) { o.Polling, o.Secret = true, "" },
		wrap: func(d telegram.Dispatcher) telegram.Dispatcher { fl.Dispatcher = d; return fl },
	})
	p := &telegramtest.Person{T: t, Fake: h.fake, Chat: chat, Lang: "ru", Deliver: h.fake.Queue}
	r := p.Say("привет")
	if !strings.Contains(r.Text, h.text("ru", "welcome.hello")) {
		t.Fatalf("first reply %q: want the Russian welcome", r.Text)
	}
	r = p.Tap(r.Buttons[0].Text)
	if !strings.Contains(r.Text, h.text("ru", "welcome.safe_now")) {
		t.Fatalf("after the language: %q", r.Text)
	}
	if m := h.fake.Methods(); m[0] != "deleteWebhook" {
		t.Fatalf("the first call is %s, want deleteWebhook", m[0])
	}
	// The reply may reach the fake before the poller's answer to the tap
	// does: wait for the answer.
	answered := func(calls []telegramtest.Call) bool {
		for _, c := range calls {
			if c.Method == "answerCallbackQuery" && !c.InResponse {
				return true
			}
		}
		return false
	}
	if !h.fake.Wait(waitLimit, answered) {
		t.Fatal("the tap was not answered")
	}

	u, _ := h.fake.Message(chat, "second", "ru")
	id := updateID(t, u)
	h.fake.Queue(u)
	h.fake.Wait(waitLimit, func([]telegramtest.Call) bool { return fl.left() == 0 })
	if off := h.fake.Offset(); off > id {
		t.Fatalf("offset %d moved past update %d, which failed", off, id)
	}
	p.Next() // the update is fetched again, and answered
	if !h.fake.Wait(waitLimit, func([]telegramtest.Call) bool { return h.fake.Offset() > id }) {
		t.Fatal("the offset did not move past the committed update")
	}
	h.assertClean(itoa(chat), "привет", "second")
}

// TestBatchOrder sends several updates of two people in one batch: each
// person's are handled in order, and each gets every reply.
func TestBatchOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{opts: func(o *telegram.Options) { o.Polling, o.Secret = true, "" }})
	a := &telegramtest.Person{T: t, Fake: h.fake, Chat: chat, Lang: "en", Deliver: h.fake.Queue}
	b := &telegramtest.Person{T: t, Fake: h.fake, Chat: chat + 1, Lang: "et", Deliver: h.fake.Queue}
	for _, p := range []*telegramtest.Person{a, b} {
		u1, _ := h.fake.Message(p.Chat, "hello", p.Lang)
		u2, _ := h.fake.Message(p.Chat, "/language", p.Lang)
		h.fake.Queue(u1)
		h.fake.Queue(u2)
	}
	for _, p := range []*telegramtest.Person{a, b} {
		first, second := p.Next(), p.Next()
		if !strings.Contains(first.Text, h.text(p.Lang, "welcome.hello")) || !strings.Contains(second.Text, h.text(p.Lang, "language.choose")) {
			t.Fatalf("chat %d: replies %q then %q, want the welcome then the language question", p.Chat, first.Text, second.Text)
		}
	}
}

// TestTapAnsweredBesidePolling holds the answers to taps: the tap's reply
// still comes, the offset moves past it, and the person's next message is
// answered, none of them waiting for the answer; a shutdown waits for it.
func TestTapAnsweredBesidePolling(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{opts: func(o *telegram.Options) { o.Polling, o.Secret = true, "" }})
	p := &telegramtest.Person{T: t, Fake: h.fake, Chat: chat, Lang: "en", Deliver: h.fake.Queue}
	r := p.Say("hello")
	if len(r.Buttons) == 0 {
		t.Fatalf("first reply %q has no buttons", r.Text)
	}
	release := h.fake.Hold("answerCallbackQuery")
	t.Cleanup(release)
	tap := h.fake.Tap(chat, r.MessageID, r.Buttons[0].Data, "en")
	id := updateID(t, tap)
	h.fake.Queue(tap)
	if r = p.Next(); !strings.Contains(r.Text, h.text("en", "welcome.safe_now")) {
		t.Fatalf("the tap's reply %q, want the safety question", r.Text)
	}
	if r = p.Say("/language"); !strings.Contains(r.Text, h.text("en", "language.choose")) {
		t.Fatalf("the next message's reply %q, want the language question", r.Text)
	}
	if off := h.fake.Offset(); off <= id {
		t.Fatalf("offset %d: the committed tap %d is not confirmed while its answer waits", off, id)
	}
	answered := func(calls []telegramtest.Call) bool {
		for _, c := range calls {
			if c.Method == "answerCallbackQuery" {
				return true
			}
		}
		return false
	}
	if answered(h.fake.Calls()) {
		t.Fatal("the tap was answered while the fake held the answer")
	}
	stopped := make(chan struct{})
	go func() { h.stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("the channel stopped before the tap was answered")
	case <-time.After(200 * time.Millisecond):
	}
	release()
	<-stopped
	if !answered(h.fake.Calls()) {
		t.Fatal("the tap was never answered")
	}
}
