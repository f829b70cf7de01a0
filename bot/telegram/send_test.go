package telegram_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/telegram"
	"github.com/helpline/helpline/bot/telegram/telegramtest"
)

// chat is a private chat ID distinctive enough to search logs for.
const chat = 7770001234

func itoa(n int) string { return strconv.Itoa(n) }

// TestLongReply sends a reply of 5000 characters as two messages, cut
// between paragraphs, with the buttons under the last.
func TestLongReply(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	para := strings.TrimSpace(strings.Repeat("Слово word 😀 ", 30)) // 389 characters, 419 UTF-16 units
	var paras []string
	for len([]rune(strings.Join(paras, "\n\n"))) < 5000 {
		paras = append(paras, para)
	}
	text := string([]rune(strings.Join(paras, "\n\n"))[:5000])
	out := bot.Outgoing{
		Channel: bot.Telegram, Address: itoa(chat), PID: h.pid(chat), Ref: "m7",
		Reply: bot.Reply{Text: text, Choices: []bot.Choice{{ID: "menu/main/0", Label: "One"}, {ID: "menu/main/1", Label: "Two"}}},
	}
	if err := h.ch.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	calls := h.fake.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2 messages: %v", len(calls), h.fake.Methods())
	}
	var joined []string
	for i, c := range calls {
		r := telegramtest.ReplyOf(c)
		if n := len(utf16.Encode([]rune(r.Text))); n > 4096 {
			t.Errorf("message %d has %d UTF-16 units", i, n)
		}
		if !strings.HasSuffix(r.Text, para) && i == 0 {
			t.Errorf("the first message does not end with a whole paragraph: …%q", r.Text[len(r.Text)-40:])
		}
		if (len(r.Buttons) > 0) != (i == 1) {
			t.Errorf("message %d has %d buttons; only the last should have them", i, len(r.Buttons))
		}
		joined = append(joined, r.Text)
	}
	if strings.Join(joined, "\n\n") != strings.TrimSpace(text) {
		t.Fatal("the two messages do not make the reply")
	}
}

// TestTapReply puts the answer to a tap in place of the message tapped,
// and sends it as a new message when that message is gone.
func TestTapReply(t *testing.T) {
	t.Parallel()
	long := strings.TrimSpace(strings.Repeat("word ", 1000)) // two messages
	cases := []struct {
		name string
		text string
		fail []telegramtest.Failure // of editMessageText
		// calls are the methods called, in order; ok those that succeeded.
		calls []string
		ok    []bool
		// retry is true when Send should ask to be tried again.
		retry bool
	}{
		{"in place", "Next question", nil,
			[]string{"editMessageText"}, []bool{true}, false},
		{"too long for one message", long, nil,
			[]string{"editMessageText", "sendMessage"}, []bool{true, true}, false},
		{"message gone", "Next question", []telegramtest.Failure{{Status: http.StatusBadRequest, Description: "Bad Request: message to edit not found"}},
			[]string{"editMessageText", "sendMessage"}, []bool{false, true}, false},
		// The answer reads exactly like the message tapped (a question
		// asked again): an edit would leave the tap looking unanswered.
		{"same as the message tapped", "Next question", []telegramtest.Failure{notModified},
			[]string{"editMessageText", "sendMessage"}, []bool{false, true}, false},
		{"too many requests", "Next question", []telegramtest.Failure{{Status: http.StatusTooManyRequests, RetryAfter: 3}},
			[]string{"editMessageText"}, []bool{false}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, setup{})
			h.fake.Fail("editMessageText", tc.fail...)
			out := bot.Outgoing{
				Channel: bot.Telegram, Address: itoa(chat), PID: h.pid(chat), Ref: "k55",
				Reply: bot.Reply{Text: tc.text, Choices: []bot.Choice{{ID: "menu/main/0", Label: "One"}}},
			}
			err := h.ch.Send(context.Background(), out)
			var again *bot.RetryAfter
			if tc.retry != errors.As(err, &again) || (!tc.retry && err != nil) {
				t.Fatalf("Send: %v; want a retry: %v", err, tc.retry)
			}
			calls := h.fake.Calls()
			var methods []string
			var ok []bool
			for _, c := range calls {
				methods, ok = append(methods, c.Method), append(ok, c.OK)
			}
			if !slices.Equal(methods, tc.calls) || !slices.Equal(ok, tc.ok) {
				t.Fatalf("calls %v succeeding %v; want %v succeeding %v", methods, ok, tc.calls, tc.ok)
			}
			if c := calls[0]; c.Params["message_id"] != "55" || c.Chat() != chat {
				t.Errorf("the edit went to %v, want message 55 of the chat", c.Params)
			}
			var text []string
			for i, c := range calls {
				if !c.OK {
					continue
				}
				r := telegramtest.ReplyOf(c)
				text = append(text, r.Text)
				if last := i == len(calls)-1; last != (len(r.Buttons) == 1) {
					t.Errorf("%s has %d buttons; only the last message should have the one", c.Method, len(r.Buttons))
				}
			}
			if len(text) > 0 && strings.Join(text, " ") != tc.text {
				t.Errorf("the messages do not make the reply: %d characters of %d", len(strings.Join(text, " ")), len(tc.text))
			}
		})
	}
}

// notModified is Telegram's answer to an edit that changes nothing.
var notModified = telegramtest.Failure{Status: http.StatusBadRequest, Description: "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"}

// TestRetriedEditSendsNothingMore: a send retried after its edit was made
// (the answer was lost on the way back) meets "message is not modified"
// for the edit this channel made itself, and sends no second message.
func TestRetriedEditSendsNothingMore(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	out := bot.Outgoing{
		Channel: bot.Telegram, Address: itoa(chat), PID: h.pid(chat), Ref: "k55",
		Reply: bot.Reply{Text: "Next question", Choices: []bot.Choice{{ID: "menu/main/0", Label: "One"}}},
	}
	if err := h.ch.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	h.fake.Fail("editMessageText", notModified)
	if err := h.ch.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	var methods []string
	for _, c := range h.fake.Calls() {
		methods = append(methods, c.Method)
	}
	if want := []string{"editMessageText", "editMessageText"}; !slices.Equal(methods, want) {
		t.Fatalf("calls %v, want %v: the retry must not send the answer twice", methods, want)
	}
	// Another answer to the same message is not the edit made before.
	out.Reply.Text = "Another question"
	h.fake.Fail("editMessageText", notModified)
	if err := h.ch.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	if calls := h.fake.Calls(); calls[len(calls)-1].Method != "sendMessage" {
		t.Fatalf("an unmodified edit this channel did not make should send anew; last call %s", calls[len(calls)-1].Method)
	}
}

// TestTooManyRequests waits as long as a 429 says, then sends.
func TestTooManyRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	h.fake.Fail("sendMessage", telegramtest.Failure{Status: http.StatusTooManyRequests, RetryAfter: 1})
	p := h.person(chat, "en")
	r := p.Say("hello")
	if !strings.Contains(r.Text, h.text("en", "welcome.hello")) {
		t.Fatalf("reply %q", r.Text)
	}
	var sends []telegramtest.Call
	for _, c := range h.fake.Calls() {
		if c.Method == "sendMessage" {
			sends = append(sends, c)
		}
	}
	if len(sends) != 2 || sends[0].MessageID != 0 {
		t.Fatalf("want a refused send, then the send: %+v", sends)
	}
	if !strings.Contains(h.logs.String(), "send failed, will retry") {
		t.Error("the retry is not logged")
	}
	h.assertClean(itoa(chat), "hello", "fake failure")
}

// TestServerErrorRetried retries a 502 with backoff.
func TestServerErrorRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	h.fake.Fail("sendMessage", telegramtest.Failure{Status: http.StatusBadGateway}, telegramtest.Failure{Status: http.StatusInternalServerError})
	p := h.person(chat, "en")
	p.Say("hello")
	h.assertClean(itoa(chat), "hello", "fake failure")
}

// TestBlocked stops sending to a person who blocked the bot: a 403 on a
// send, or the my_chat_member update, sets the stop mark, and a reply that
// answers none of their messages (a counsellor's) is then not sent. Coming
// back lifts the mark.
func TestBlocked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, setup{})
	pid := h.pid(chat)
	h.fake.Fail("sendMessage", telegramtest.Failure{Status: http.StatusForbidden})
	p := h.person(chat, "en")
	u, _ := h.fake.Message(chat, "hello", "en")
	p.Deliver(u)
	h.outboxEmpty()
	if !stopped(t, h, pid) {
		t.Fatal("a 403 did not set the stop mark")
	}
	if n := h.stats()["send.permanent"]; n != 1 {
		t.Fatalf("send.permanent = %d, want 1: a 403 is not retried", n)
	}
	counsellor := bot.Outgoing{Channel: bot.Telegram, Address: itoa(chat), PID: pid, Reply: bot.Reply{Text: "Are you there?"}}
	err := h.ch.Send(ctx, counsellor)
	if !errors.Is(err, bot.ErrPermanent) {
		t.Fatalf("a send to a person who blocked the bot: %v, want a permanent failure", err)
	}
	if n := len(h.fake.Calls()); n != 1 {
		t.Fatalf("%d calls: the stop mark did not stop the send", n)
	}

	if code := h.post(h.fake.Member(chat, "member")); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if stopped(t, h, pid) {
		t.Fatal("coming back did not lift the stop mark")
	}
	if err := h.ch.Send(ctx, counsellor); err != nil {
		t.Fatal(err)
	}
	if code := h.post(h.fake.Member(chat, "kicked")); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if !stopped(t, h, pid) || h.stats()["telegram.blocked"] != 1 {
		t.Fatal("my_chat_member kicked did not set the stop mark")
	}
	h.assertClean(itoa(chat), "Are you there", "hello")
}

func stopped(t *testing.T, h *harness, pid string) bool {
	t.Helper()
	s, err := h.st.Stopped(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestErrorsHoldNoContent checks that a failed call's error names the
// method and the status, and nothing of the chat, the text, Telegram's
// description or the token.
func TestErrorsHoldNoContent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := telegramtest.New()
	defer fake.Close()
	api, err := telegram.NewAPI(fake.Token, fake.URL, telegram.NewHTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	fake.Fail("sendMessage", telegramtest.Failure{Status: http.StatusBadRequest})
	_, err = api.SendText(ctx, chat, "my secret words", nil)
	var e *telegram.Error
	if !errors.As(err, &e) || e.Method != "sendMessage" || e.Status != 400 {
		t.Fatalf("error %v: want a telegram.Error for sendMessage, status 400", err)
	}
	gone := telegramtest.New()
	gone.Close()
	down, _ := telegram.NewAPI(fake.Token, gone.URL, telegram.NewHTTPClient())
	_, downErr := down.SendText(ctx, chat, "my secret words", nil)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, cancelErr := api.SendText(cancelled, chat, "my secret words", nil)
	if !errors.Is(cancelErr, context.Canceled) {
		t.Errorf("a cancelled call: %v, want context.Canceled", cancelErr)
	}
	for _, err := range []error{err, downErr, cancelErr} {
		for _, secret := range []string{itoa(chat), "secret words", "fake failure", fake.Token, "123456"} {
			if err == nil || strings.Contains(err.Error(), secret) {
				t.Errorf("error %v holds %q", err, secret)
			}
		}
	}
}

// TestRateLimits holds one chat to its rate, after a short burst, without
// holding up another chat. No time is asserted: the test counts what the
// limiter let through at once.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{opts: func(o *telegram.Options) { o.ChatRate, o.ChatBurst = 0.01, 2 }})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	out := func(c int64) bot.Outgoing {
		return bot.Outgoing{Channel: bot.Telegram, Address: strconv.FormatInt(c, 10), PID: h.pid(c), Ref: "m1", Reply: bot.Reply{Text: "hi"}}
	}
	for i := range 3 {
		err := h.ch.Send(ctx, out(chat))
		if (err == nil) != (i < 2) {
			t.Fatalf("send %d to one chat: %v; want the burst of 2 to pass and the third to wait", i, err)
		}
	}
	if err := h.ch.Send(context.Background(), out(chat+1)); err != nil {
		t.Fatalf("another chat was held up: %v", err)
	}
}
