package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/browsertest"
	"github.com/helpline/helpline/bot/webchat"
)

// TestConsoleInChromium is a counsellor's shift in real headless Chromium:
// a counsellor logs in; a person on the web chat asks for a counsellor;
// the case appears in the queue without a reload; the counsellor claims
// it, reads the intake card and replies; the person gets the reply; the
// counsellor ends the case with a wrap-up; the person is back at the menu.
func TestConsoleInChromium(t *testing.T) {
	redisURL := "redis://" + redisServer.Addr + "/5"
	srv := startServer(t, map[string]string{"HELPLINE_REDIS_URL": redisURL, "HELPLINE_SECRET": testSecret})
	password := newCounsellor(t, redisURL, "nina", "--langs", "en,ru", "--capacity", "2")
	en := enText(t)
	ctx := browsertest.New(t)

	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.url+"/console/"),
		chromedp.WaitVisible(chromedp.CSS(`#name`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "nina"),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`#queue-rows`)),
	)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	// A mark on the page: a reload would lose it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.noReload = "still here"`)); err != nil {
		t.Fatal(err)
	}

	p := newWebPerson(t, srv.url, webchat.NewToken(), "en")
	p.say("hello")
	p.tap("English")
	p.tap(en("welcome.safe_yes"))
	p.tap(en("menu.counsellor"))
	p.tap(en("counsellor.go"))
	p.tap(en("intake.stay"))
	p.say("no")
	p.tap(en("common.skip_question"))
	p.tap(en("common.skip_question"))

	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`button.claim`))); err != nil {
		t.Fatalf("the case should appear in the queue: %v", err)
	}
	if still, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.noReload`)); err != nil || still != "still here" {
		t.Fatalf("the case should appear without a reload: %v %q", err, still)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button.claim`)), chromedp.WaitVisible(chromedp.CSS(`#card`))); err != nil {
		t.Fatalf("claim: %v", err)
	}
	card, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#card`)))
	if err != nil || !strings.Contains(card, "a safe place to stay") || !strings.Contains(card, "Safe now") {
		t.Fatalf("the intake card should show the answers: %q %v", card, err)
	}
	page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS(`body`)))
	if strings.Contains(page, p.token) {
		t.Fatal("the console shows the person's address")
	}
	p.until(en("queue.joined"))

	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#text`), "Hello, I am Nina. We can find you a safe place tonight."),
		chromedp.Click(chromedp.CSS(`#send`)),
		chromedp.WaitVisible(chromedp.CSS(`#lines li.counsellor`)),
	)
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	p.until("Hello, I am Nina.")

	p.post(map[string]string{"text": "thank you, where?"})
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#lines li.person`))); err != nil {
		t.Fatalf("the person's message should reach the open case page: %v", err)
	}
	if lines, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#lines`))); !strings.Contains(lines, "thank you, where?") {
		t.Fatalf("the transcript: %q", lines)
	}

	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#wrap`), "referral_shelter"),
		chromedp.Click(chromedp.CSS(`#end-case`)),
		chromedp.WaitVisible(chromedp.CSS(`p.msg`)),
	)
	if err != nil {
		t.Fatalf("end: %v", err)
	}
	r := p.until(en("queue.ended"))
	if !strings.Contains(r.Text, en("menu.question")) || len(r.Choices) == 0 || r.Choices[0].Label != en("menu.help_now") {
		t.Fatalf("the person should be back at the menu: %+v", r)
	}
}

// until reads replies until one contains want, and returns it.
func (p *webPerson) until(want string) bot.Reply {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if r := p.reply(); strings.Contains(r.Text, want) {
			return r
		}
	}
	p.t.Fatalf("no reply with %q", want)
	return bot.Reply{}
}
