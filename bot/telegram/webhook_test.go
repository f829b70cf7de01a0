package telegram_test

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/helpline/helpline/bot/telegram/telegramtest"
)

// fixtureChat is the private chat of every fixture.
const fixtureChat = 1111111

// TestFixtures posts every real update from ../shared/fixtures/telegram to
// the webhook: each is accepted with 200, answered as it should be, and
// leaves no content of the person in Redis or the logs.
func TestFixtures(t *testing.T) {
	t.Parallel()
	welcome := "welcome.hello"
	cases := []struct {
		file string
		// reply lists message IDs whose English text the one reply holds;
		// nil means nothing is sent.
		reply []string
		// calls are the Bot API methods called, in order.
		calls   []string
		counter string
	}{
		{"docs_message_text_start.json", []string{welcome}, []string{"sendMessage"}, "in.telegram"},
		{"docs_message_reply.json", []string{welcome}, []string{"sendMessage"}, "in.telegram"},
		{"docs_message_forwarded_legacy.json", []string{welcome}, []string{"sendMessage"}, "in.telegram"},
		{"docs_message_entities.json", []string{welcome}, []string{"sendMessage"}, "in.telegram"},
		{"composed_start_deeplink.json", []string{welcome}, []string{"sendMessage"}, "tag.campaign.unknown"},
		{"docs_voice.json", []string{"common.unsupported", welcome}, []string{"sendMessage"}, "in.telegram"},
		{"docs_document.json", []string{"common.unsupported", welcome}, []string{"sendMessage"}, "in.telegram"},
		{"composed_contact.json", []string{"common.unsupported", welcome}, []string{"sendMessage"}, "in.telegram"},
		// A tap on a button of a message the bot no longer knows of: the
		// tap is answered, and the conversation starts in that message's
		// place, which takes its keyboard away.
		{"composed_callback_query_with_message.json", []string{welcome}, []string{"answerCallbackQuery", "editMessageText"}, "in.telegram"},
		{"docs_callback_query_inline.json", nil, []string{"answerCallbackQuery"}, "telegram.ignored.tap"},
		{"docs_edited_message.json", nil, nil, "telegram.ignored.edited"},
		{"docs_inline_query_numeric_id.json", nil, nil, "telegram.ignored.other"},
	}
	for _, tc := range cases {
		t.Run(strings.TrimSuffix(tc.file, ".json"), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, setup{})
			body, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if code := h.post(body); code != http.StatusOK {
				t.Fatalf("status %d, want 200", code)
			}
			h.outboxEmpty()
			if tc.reply != nil {
				p := &telegramtest.Person{T: t, Fake: h.fake, Chat: fixtureChat}
				r := p.Next()
				for _, id := range tc.reply {
					if !strings.Contains(r.Text, h.text("en", id)) {
						t.Errorf("reply %q lacks %s", r.Text, id)
					}
				}
			} else if keys := h.personKeys(fixtureChat); len(keys) != 0 {
				t.Errorf("an update that is not a message left keys: %v", keys)
			}
			// A tap's answer travels in the webhook's response, at about
			// the time delivery sends: compare without order.
			got := h.fake.Methods()
			slices.Sort(got)
			slices.Sort(tc.calls)
			if !slices.Equal(got, tc.calls) {
				t.Errorf("calls %v, want %v", got, tc.calls)
			}
			if n := h.stats()[tc.counter]; n != 1 {
				t.Errorf("counter %s = %d, want 1", tc.counter, n)
			}
			dump := h.dump()
			for _, private := range []string{"1111111", "+123****7890", "John", "vcard", "Testusername", "Test Lastname", "AwADBAADbXXXXXXXXXXXGBdhD2l6_XX", "Testfile"} {
				if strings.Contains(dump, private) {
					t.Errorf("Redis holds %q", private)
				}
			}
			h.assertClean("1111111", "Bold and italics", "Edited text", "inline query", "Testusername", "+123", "ref_et_helpline")
		})
	}
}

// TestSecret refuses updates without the webhook's secret, and changes
// nothing for them.
func TestSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	body, _ := os.ReadFile("testdata/docs_message_text_start.json")
	for name, secret := range map[string]string{"missing": "", "forged": "not-the-secret-at-all-000", "prefix": webhookSecret[:10]} {
		code, err := h.fake.Post(h.hook, secret, body)
		if err != nil || code != http.StatusUnauthorized {
			t.Errorf("%s secret: status %d (%v), want 401", name, code, err)
		}
	}
	if keys := h.personKeys(fixtureChat); len(keys) != 0 || len(h.fake.Calls()) != 0 {
		t.Fatalf("a refused update changed something: keys %v, calls %v", keys, h.fake.Methods())
	}
}

// TestDuplicateUpdate answers an update Telegram delivers twice only once.
func TestDuplicateUpdate(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	u, _ := h.fake.Message(42, "hello", "en")
	for range 3 {
		if code := h.post(u); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
	}
	h.outboxEmpty()
	if n := len(h.fake.Calls()); n != 1 {
		t.Fatalf("%d calls for one update delivered three times: %v", n, h.fake.Methods())
	}
}

// TestDoubleTap taps one button twice before its keyboard is gone: the
// first tap answers the question, the second is told that the button is an
// old one. Both taps are answered, and each reply takes the place of the
// message tapped, so the chat holds one message with the live buttons.
func TestDoubleTap(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.person(42, "en")
	first := p.Say("hello")
	if len(first.Buttons) == 0 {
		t.Fatalf("the first reply has no buttons: %+v", first)
	}
	tap := first.Buttons[0]
	r := p.Tap(tap.Text)
	if !strings.Contains(r.Text, h.text("en", "welcome.safe_now")) {
		t.Fatalf("after choosing English: %q", r.Text)
	}
	if r.MessageID != first.MessageID || len(r.Buttons) == 0 {
		t.Fatalf("the answer to a tap is message %d with %d buttons; want message %d with the next buttons", r.MessageID, len(r.Buttons), first.MessageID)
	}
	p.Last = first
	again := p.Tap(tap.Text)
	if !strings.Contains(again.Text, h.text("en", "common.stale")) || !strings.Contains(again.Text, h.text("en", "welcome.safe_now")) {
		t.Fatalf("a second tap on an old button: %q", again.Text)
	}
	if again.MessageID != first.MessageID || !slices.Equal(again.Buttons, r.Buttons) {
		t.Fatalf("the answer to the second tap: message %d with %v; want message %d with %v", again.MessageID, again.Buttons, first.MessageID, r.Buttons)
	}
	h.outboxEmpty()
	var answers, edits, sends int
	for _, c := range h.fake.Calls() {
		switch c.Method {
		case "answerCallbackQuery":
			answers++
			if !c.InResponse {
				t.Error("in webhook mode a tap is answered in the webhook's response")
			}
		case "editMessageText":
			edits++
		case "sendMessage":
			sends++
		}
	}
	if answers != 2 || edits != 2 || sends != 1 {
		t.Fatalf("%d answers, %d edits and %d messages for a message and two taps; want 2, 2 and 1", answers, edits, sends)
	}
}

// TestGroupMessage answers nothing in a group and keeps nothing of it.
func TestGroupMessage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	if code := h.post(h.fake.GroupMessage(-100123, 42, "hello bot")); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if code := h.post(h.fake.Member(-100123, "member")); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	// Nothing was committed, so nothing can be sent later.
	if calls := h.fake.Calls(); len(calls) != 0 {
		t.Fatalf("a group got %v", h.fake.Methods())
	}
	if keys := h.personKeys(-100123); len(keys) != 0 {
		t.Fatalf("keys for a group: %v", keys)
	}
	if keys := h.personKeys(42); len(keys) != 0 {
		t.Fatalf("keys for the group member: %v", keys)
	}
	if n := h.stats()["telegram.ignored.group"]; n != 2 {
		t.Fatalf("telegram.ignored.group = %d, want 2", n)
	}
	h.assertClean("hello bot", "100123")
}

// TestUndecodable answers 200 to a body that is no update at all, and to
// one too large, so that neither blocks the bot's queue.
func TestUndecodable(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	for _, body := range [][]byte{[]byte("{"), []byte(`{"update_id":"x"}`), make([]byte, 2<<20)} {
		if code := h.post(body); code != http.StatusOK {
			t.Errorf("status %d, want 200", code)
		}
	}
	s := h.stats()
	if s["telegram.ignored.undecodable"] != 2 || s["telegram.ignored.too_large"] != 1 {
		t.Fatalf("counters %v", s)
	}
}

// TestDeepLink opens the flow a campaign's link names, counts the
// campaign, and takes the person's Telegram language as the first hint.
func TestDeepLink(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.person(chat, "ru")
	r := p.Say("/start school")
	if !strings.Contains(r.Text, h.text("ru", "welcome.first")) || strings.Contains(r.Text, h.text("ru", "welcome.hello")) {
		t.Fatalf("a school poster's link, in Russian: %q; want the safety line and the safe work flow", r.Text)
	}
	if n := h.stats()["tag.campaign.school"]; n != 1 {
		t.Fatalf("tag.campaign.school = %d", n)
	}
	h.assertClean(itoa(chat), "school")
}
