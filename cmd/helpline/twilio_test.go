package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/twilio/twiliotest"
	"github.com/helpline/helpline/locales"
)

const (
	twilioSID    = "AC00000000000000000000000000000001"
	twilioToken  = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
	twilioPublic = "https://helpline.example.org/hl"
	twilioDB     = 5
)

// smsPerson writes to the helpline by SMS or WhatsApp, as Twilio posts it,
// and reads the replies the fake Twilio API was asked to send.
type smsPerson struct {
	t      *testing.T
	srv    *server
	api    *twiliotest.API
	from   string
	n      int
	said   []string
	pinned int
}

func (p *smsPerson) post(text string) int {
	p.t.Helper()
	p.n++
	form := url.Values{
		"MessageSid": {fmt.Sprintf("SM%02x%030d", len(p.from), p.n)}, "AccountSid": {twilioSID},
		"From": {p.from}, "To": {"+3725550000"}, "Body": {text}, "NumMedia": {"0"},
	}
	p.said = append(p.said, text)
	req, _ := http.NewRequest("POST", p.srv.url+"/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.SignForm(twilioToken, twilioPublic+"/twilio/sms", form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// say sends text and returns the reply.
func (p *smsPerson) say(text string) string {
	p.t.Helper()
	if code := p.post(text); code != http.StatusOK {
		p.t.Fatalf("%q: status %d", text, code)
	}
	p.pinned++
	sent := p.api.WaitSent(p.t, p.from, p.pinned)
	return sent[p.pinned-1].Body
}

// TestTwilioSelfCheckBySMSAndWhatsApp runs the binary against a fake
// Twilio: the whole self-check by SMS, answered by number, by word and by a
// part of a label, then an erase; one exchange by WhatsApp; a forged
// webhook refused; and no number and no text in the logs.
func TestTwilioSelfCheckBySMSAndWhatsApp(t *testing.T) {
	api := twiliotest.NewAPI(t, twilioSID, twilioToken)
	rdb := redis.NewClient(&redis.Options{Addr: redisServer.Addr, DB: twilioDB})
	defer rdb.Close()
	rdb.FlushDB(context.Background())
	srv := startServer(t, map[string]string{
		"HELPLINE_REDIS_URL":          fmt.Sprintf("redis://%s/%d", redisServer.Addr, twilioDB),
		"HELPLINE_SECRET":             testSecret,
		"HELPLINE_LOG_LEVEL":          "debug",
		"HELPLINE_PUBLIC_URL":         twilioPublic,
		"HELPLINE_TWILIO_ACCOUNT_SID": twilioSID,
		"HELPLINE_TWILIO_AUTH_TOKEN":  twilioToken,
		"HELPLINE_TWILIO_FROM":        "+3725550000",
		"HELPLINE_TWILIO_API_URL":     api.URL,
		"HELPLINE_TWILIO_RATE":        "100",
	})
	cat, err := lang.Load(locales.FS())
	if err != nil {
		t.Fatal(err)
	}
	en := func(id string) string { s, _ := cat.Text("en", id, nil, nil); return s }

	p := &smsPerson{t: t, srv: srv, api: api, from: "+447700900123"}
	if r := p.say("hello, my number is +447700900123"); !strings.Contains(r, en("welcome.language")) || !strings.Contains(r, "1. English") {
		t.Fatalf("a UK number is asked the language, English first:\n%s", r)
	}
	p.say("english")
	r := p.say("1")
	if !strings.Contains(r, en("menu.question")) {
		t.Fatalf("safe to write: the menu:\n%s", r)
	}
	r = p.say("exploited")
	answered := 0
	for strings.Contains(r, "1. "+en("common.yes")+"\n") {
		r = p.say("Yes")
		answered++
	}
	if answered != selfcheckSigns(t) || !strings.Contains(r, en("danger.offer")) {
		t.Fatalf("after %d yes answers, not free to leave and threats should offer an urgent counsellor first:\n%s", answered, r)
	}
	if r = p.say("2"); !strings.Contains(r, fmt.Sprint(answered)) {
		t.Fatalf("the result should count %d signs:\n%s", answered, r)
	}
	if r := p.say("forget me"); !strings.Contains(r, en("erase.done")) {
		t.Fatalf("erase:\n%s", r)
	}
	keys, err := secret.New([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	pid := keys.PersonID(bot.SMS, p.from)
	if left, err := rdb.Keys(context.Background(), "*"+pid+"*").Result(); err != nil || len(left) != 0 {
		t.Fatalf("keys of the person left after erase: %v %v", left, err)
	}

	wa := &smsPerson{t: t, srv: srv, api: api, from: "whatsapp:+37255500077"}
	if r := wa.say("tere"); !strings.Contains(r, "1. Eesti") {
		t.Fatalf("an Estonian WhatsApp number gets the language question in Estonian:\n%s", r)
	}
	if s := api.WaitSent(t, wa.from, 1)[0]; s.From != "whatsapp:+3725550000" {
		t.Fatalf("WhatsApp reply sent from %q", s.From)
	}

	forged := url.Values{"MessageSid": {"SM" + strings.Repeat("0", 32)}, "From": {"+37255500099"}, "Body": {"hi"}}
	req, _ := http.NewRequest("POST", srv.url+"/twilio/sms", strings.NewReader(forged.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.SignForm(twilioToken, srv.url+"/twilio/sms", forged))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a webhook signed for the Host, not the public URL: %v %v", resp, err)
	}

	logs := srv.logs.String()
	if !strings.Contains(logs, pid) {
		t.Fatalf("the logs should name the pseudonymous ID, to show they were read:\n%s", logs)
	}
	for _, s := range append(append(p.said, wa.said...), p.from, p.from[1:], wa.from, "37255500077", "37255500099") {
		if len(s) > 3 && strings.Contains(logs, s) {
			t.Errorf("the logs contain %q", s)
		}
	}
}

// TestTwilioNeedsBothCredentials refuses half a Twilio configuration.
func TestTwilioNeedsBothCredentials(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"token only":    {"HELPLINE_TWILIO_AUTH_TOKEN": twilioToken},
		"no public URL": {"HELPLINE_TWILIO_ACCOUNT_SID": twilioSID, "HELPLINE_TWILIO_AUTH_TOKEN": twilioToken, "HELPLINE_TWILIO_FROM": "+3725550000"},
		"no sender":     {"HELPLINE_TWILIO_ACCOUNT_SID": twilioSID, "HELPLINE_TWILIO_AUTH_TOKEN": twilioToken, "HELPLINE_PUBLIC_URL": twilioPublic},
		"bad token":     {"HELPLINE_TWILIO_ACCOUNT_SID": twilioSID, "HELPLINE_TWILIO_AUTH_TOKEN": "not a token", "HELPLINE_PUBLIC_URL": twilioPublic, "HELPLINE_TWILIO_FROM": "+3725550000"},
		"bad rate":      {"HELPLINE_TWILIO_ACCOUNT_SID": twilioSID, "HELPLINE_TWILIO_AUTH_TOKEN": twilioToken, "HELPLINE_PUBLIC_URL": twilioPublic, "HELPLINE_TWILIO_FROM": "+3725550000", "HELPLINE_TWILIO_RATE": "fast"},
	} {
		err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), &syncBuffer{}, &syncBuffer{})
		if err == nil || !strings.Contains(err.Error(), "TWILIO") && !strings.Contains(err.Error(), "PUBLIC_URL") && !strings.Contains(err.Error(), "twilio") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestTwilioNeutralFirstReply runs the binary with HELPLINE_SMS_NEUTRAL: a
// first message gets the neutral greeting over the numbered languages; a
// first message with danger words gets the emergency numbers of the
// number's country all the same.
func TestTwilioNeutralFirstReply(t *testing.T) {
	api := twiliotest.NewAPI(t, twilioSID, twilioToken)
	srv := startServer(t, map[string]string{
		"HELPLINE_TWILIO_ACCOUNT_SID":           twilioSID,
		"HELPLINE_TWILIO_AUTH_TOKEN":            twilioToken,
		"HELPLINE_TWILIO_MESSAGING_SERVICE_SID": "MG00000000000000000000000000000001",
		"HELPLINE_TWILIO_API_URL":               api.URL,
		"HELPLINE_PUBLIC_URL":                   twilioPublic,
		"HELPLINE_SMS_NEUTRAL":                  "true",
	})
	cat, err := lang.Load(locales.FS())
	if err != nil {
		t.Fatal(err)
	}
	neutral, _ := cat.Text("et", "sms.neutral", nil, nil)
	p := &smsPerson{t: t, srv: srv, api: api, from: "+37255500081"}
	want := neutral // the languages follow, Estonian first, as the phone's country hints
	for i, l := range append([]string{"et"}, slices.DeleteFunc(slices.Clone(cat.Languages()), func(l string) bool { return l == "et" })...) {
		name, _ := cat.Text(l, "language.name", nil, nil)
		want += fmt.Sprintf("\n%d. %s", i+1, name)
	}
	if r := p.say("tere"); r != want {
		t.Fatalf("neutral first reply:\n%s\nwant:\n%s", r, want)
	}
	if s := api.WaitSent(t, p.from, 1)[0]; s.MessagingServiceSID == "" || s.From != "" {
		t.Fatalf("sent as %+v, want through the Messaging Service", s)
	}
	d := &smsPerson{t: t, srv: srv, api: api, from: "+37255500082"}
	if r := d.say("appi"); strings.HasPrefix(r, neutral) || !strings.Contains(r, "116 006") {
		t.Fatalf("danger words get Estonia's emergency numbers, neutral mode or not:\n%s", r)
	}
}
