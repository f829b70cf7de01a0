package main

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot/telegram/telegramtest"
	"github.com/helpline/helpline/bot/twilio/twiliotest"
	"github.com/helpline/helpline/bot/webchat"
)

// The Redis databases of the handoff tests, one per channel.
const (
	handoffWebDB      = 11
	handoffTelegramDB = 12
	handoffSMSDB      = 13
)

// handoffPerson is one person on one channel, as the handoff test drives
// them.
type handoffPerson interface {
	// ask walks from hello to a request for a counsellor, with no intake.
	ask()
	// write sends text and does not wait for an answer.
	write(text string)
	// until waits for a message to the person that contains want.
	until(want string)
}

// testHandoff is the whole handoff as a person meets it, on any channel:
// ask for a counsellor, write while waiting, get claimed, write again.
// Every message reaches the transcript in order, none is answered by the
// menu, and the counsellor's reply reaches the person.
func testHandoff(t *testing.T, srv *server, redisURL string, p handoffPerson) {
	t.Helper()
	en := enText(t)
	password := newCounsellor(t, redisURL, "anna", "--langs", "en,et,ru")
	anna := newBrowser(t, srv.url)
	if code := anna.login("anna", password); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	p.ask()
	code := waitForCase(t, anna)
	if _, _, queue := anna.get("/console/queue"); !strings.Contains(queue, `<tr class="p0" data-code="`+code+`"`) {
		t.Fatalf("the queue row of a normal case is not marked p0:\n%s", queue)
	}
	words := []string{"I can write until six tonight", "he has the keys", "are you there?", "I am in the kitchen now"}
	p.write(words[0])
	p.until(en("queue.noted"))
	p.write(words[1])
	if status, _ := anna.post("/console/case/"+code+"/claim", url.Values{"csrf": {anna.csrf}}); status != http.StatusSeeOther {
		t.Fatalf("claim: %d", status)
	}
	p.until(en("queue.joined"))
	p.write(words[2])
	p.write(words[3])
	if status, _ := anna.post("/console/case/"+code+"/reply", url.Values{"csrf": {anna.csrf}, "text": {"Hello, I am Anna."}, "id": {"r1"}}); status != http.StatusSeeOther {
		t.Fatalf("reply: %d", status)
	}
	p.until("Hello, I am Anna.")
	var body string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, _, body = anna.get("/console/case/" + code)
		if inOrder(html.UnescapeString(body), words) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the transcript does not hold what the person wrote, in order:\n%s", body)
		}
	}
	if strings.Contains(body, en("menu.question")) {
		t.Fatal("the menu reached the transcript")
	}
}

// waitForCase waits for a case in the queue and returns its code.
func waitForCase(t *testing.T, b *browser) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, _, body := b.get("/console/queue")
		if m := claimForm.FindStringSubmatch(body); m != nil {
			return m[1]
		}
	}
	t.Fatal("the case did not reach the queue")
	return ""
}

// inOrder reports whether s holds every one of words, in that order.
func inOrder(s string, words []string) bool {
	for _, w := range words {
		i := strings.Index(s, w)
		if i < 0 {
			return false
		}
		s = s[i+len(w):]
	}
	return true
}

func TestHandoffWebChat(t *testing.T) {
	redisURL := fmt.Sprintf("redis://%s/%d", redisServer.Addr, handoffWebDB)
	srv := startServer(t, map[string]string{"HELPLINE_REDIS_URL": redisURL, "HELPLINE_SECRET": testSecret})
	testHandoff(t, srv, redisURL, &webHandoff{p: newWebPerson(t, srv.url, webchat.NewToken(), "en"), en: enText(t)})
}

type webHandoff struct {
	p  *webPerson
	en func(string) string
}

func (w *webHandoff) ask() { askForCounsellor(w.p.t, w.p, w.en) }
func (w *webHandoff) write(text string) {
	if code := w.p.post(map[string]string{"text": text}); code != http.StatusNoContent {
		w.p.t.Fatalf("send %q: %d", text, code)
	}
}
func (w *webHandoff) until(want string) { w.p.until(want) }

func TestHandoffTelegram(t *testing.T) {
	fake := telegramtest.New()
	defer fake.Close()
	env := telegramEnv(fake, handoffTelegramDB)
	srv := startServer(t, env)
	p := &telegramtest.Person{T: t, Fake: fake, Chat: 5550077, Lang: "en"}
	p.Deliver = func(u []byte) {
		if code, err := fake.Post(srv.url+"/telegram/webhook", telegramSecret, u); err != nil || code != http.StatusOK {
			t.Fatalf("webhook: %d %v", code, err)
		}
	}
	testHandoff(t, srv, env["HELPLINE_REDIS_URL"], &telegramHandoff{p: p, en: enText(t)})
}

type telegramHandoff struct {
	p  *telegramtest.Person
	en func(string) string
}

func (h *telegramHandoff) ask() {
	p := h.p
	r := p.Say("hello")
	p.Tap(r.Buttons[0].Text) // English
	p.Tap(h.en("welcome.safe_yes"))
	p.Tap(h.en("menu.counsellor"))
	p.Tap(h.en("counsellor.no_questions"))
}
func (h *telegramHandoff) write(text string) {
	u, id := h.p.Fake.Message(h.p.Chat, text, h.p.Lang)
	h.p.IDs = append(h.p.IDs, id)
	h.p.Deliver(u)
}
func (h *telegramHandoff) until(want string) {
	h.p.T.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		if r := h.p.Next(); strings.Contains(r.Text, want) {
			return
		}
	}
	h.p.T.Fatalf("no message with %q", want)
}

func TestHandoffSMS(t *testing.T) {
	api := twiliotest.NewAPI(t, twilioSID, twilioToken)
	redisURL := fmt.Sprintf("redis://%s/%d", redisServer.Addr, handoffSMSDB)
	srv := startServer(t, map[string]string{
		"HELPLINE_REDIS_URL": redisURL, "HELPLINE_SECRET": testSecret, "HELPLINE_PUBLIC_URL": twilioPublic,
		"HELPLINE_TWILIO_ACCOUNT_SID": twilioSID, "HELPLINE_TWILIO_AUTH_TOKEN": twilioToken,
		"HELPLINE_TWILIO_FROM": "+3725550000", "HELPLINE_TWILIO_API_URL": api.URL, "HELPLINE_TWILIO_RATE": "100",
	})
	testHandoff(t, srv, redisURL, &smsHandoff{p: &smsPerson{t: t, srv: srv, api: api, from: "+447700900177"}})
}

type smsHandoff struct{ p *smsPerson }

func (h *smsHandoff) ask() {
	for _, text := range []string{"hello", "english", "1", "counsellor", "2"} {
		h.p.say(text)
	}
}
func (h *smsHandoff) write(text string) {
	if code := h.p.post(text); code != http.StatusOK {
		h.p.t.Fatalf("%q: status %d", text, code)
	}
}
func (h *smsHandoff) until(want string) {
	h.p.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		h.p.pinned++
		if sent := h.p.api.WaitSent(h.p.t, h.p.from, h.p.pinned); strings.Contains(sent[h.p.pinned-1].Body, want) {
			return
		}
	}
	h.p.t.Fatalf("no message with %q", want)
}
