package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
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

	loginInChromium(t, ctx, srv.url, "nina", password)
	// A mark on the page: a reload would lose it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.noReload = "still here"`)); err != nil {
		t.Fatal(err)
	}

	p := newWebPerson(t, srv.url, webchat.NewToken(), "en")
	unsafeCase(t, p, en)

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

// TestConsoleShiftInChromium is a night shift in the console in Estonian:
// a new case changes the tab's title and its waiting time counts up live;
// the counsellor previews and claims it, finds a canned answer by typing
// and puts it in by keyboard, and replies without the page reloading while
// the reply box keeps focus; the person's next message appears live.
// Screenshots of the queue and the case at 360×640 and 1280×800, light and
// dark, are written to testdata/screenshots for a reviewer.
func TestConsoleShiftInChromium(t *testing.T) {
	redisURL := "redis://" + redisServer.Addr + "/8"
	srv := startServer(t, map[string]string{"HELPLINE_REDIS_URL": redisURL, "HELPLINE_SECRET": testSecret})
	password := newCounsellor(t, redisURL, "eeva", "--langs", "et,en", "--capacity", "2")
	en := enText(t)
	ctx := browsertest.New(t)
	shots := screenshotDir(t)

	loginInChromium(t, ctx, srv.url, "eeva", password)
	lang, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	nav, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`nav`)))
	if lang != "et" || !strings.Contains(nav, "Järjekord") || !strings.Contains(nav, "Minu juhtumid") {
		t.Fatalf("the console should speak Estonian to an Estonian counsellor: lang %q, nav %q", lang, nav)
	}
	before, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.title`))
	iconBefore, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("icon").href`))
	if sound, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("sound").checked`)); sound {
		t.Fatal("the sound is on before the counsellor turned it on")
	}

	p := newWebPerson(t, srv.url, webchat.NewToken(), "en")
	unsafeCase(t, p, en)

	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`button.claim`))); err != nil {
		t.Fatalf("the case should appear in the queue: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.title.indexOf("(1)") >= 0 && document.title.indexOf("Kiireloomuline juhtum") >= 0`)); err != nil {
		title, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.title`))
		t.Fatalf("a new urgent case should change the title: %q, before %q", title, before)
	}
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.getElementById("icon").href.indexOf("data:image/png") === 0 && document.getElementById("icon").href !== `+jsString(iconBefore))); err != nil {
		t.Fatalf("a new case should draw a badge on the tab's icon (before: %.60q)", iconBefore)
	}
	first, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#queue-rows time.wait`)))
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.querySelector("#queue-rows time.wait").textContent !== `+jsString(first))); err != nil {
		t.Fatalf("the waiting time should count up by itself: still %q", first)
	}
	row, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#queue-rows tr`)))
	if !strings.Contains(strings.ToLower(row), "kiire") || !strings.Contains(row, "Veebivestlus") || !strings.Contains(row, "inglise") {
		t.Errorf("the row should say urgent, the web chat and English in Estonian: %q", row)
	}
	screenshots(t, ctx, shots, "queue")

	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#queue-rows a.code`)),
		chromedp.WaitVisible(chromedp.CSS(`#risks`)),
	)
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	preview, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	if !strings.Contains(preview, "turvaline peavari") || !strings.Contains(preview, "praegu pole turvaline") || strings.Contains(preview, "Vestlus") {
		t.Errorf("the preview should show the card in Estonian, not the conversation: %q", preview)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`button.claim`)),
		chromedp.WaitVisible(chromedp.CSS(`#text`)),
	)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	p.until(en("queue.joined"))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.noReload = "still here"`)); err != nil {
		t.Fatal(err)
	}

	err = chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS(`#canned-q`)),
		chromedp.SendKeys(chromedp.CSS(`#canned-q`), "112"),
		chromedp.KeyEvent("\r"),
	)
	if err != nil {
		t.Fatalf("canned answer: %v", err)
	}
	reply, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#text`)))
	focus, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`))
	// chromedp sends the Enter's character as an event of its own, which
	// a browser suppresses for a real key; the newline it leaves is its.
	if strings.TrimSpace(reply) != en("canned.emergency") || focus != "text" {
		t.Fatalf("Enter should put the canned answer, whole, in the reply box and go back to it: %q, focus %q", reply, focus)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#send`)),
		chromedp.WaitVisible(chromedp.CSS(`#lines li.counsellor`)),
		chromedp.Poll[chromedp.Void](`document.activeElement && document.activeElement.id === "text" && document.getElementById("text").value === ""`),
	)
	if err != nil {
		focus, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`))
		t.Fatalf("the reply should be sent and the reply box keep focus: %v, focus %q", err, focus)
	}
	if still, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.noReload`)); err != nil || still != "still here" {
		t.Fatalf("a reply should not reload the page: %v %q", err, still)
	}
	p.until(en("canned.emergency"))

	p.post(map[string]string{"text": "ok, thank you"})
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#lines li.person.new`))); err != nil {
		t.Fatalf("the person's message should appear live, marked new: %v", err)
	}
	screenshots(t, ctx, shots, "case")
}

// screenshotDir is where the browser tests leave screenshots for a
// reviewer: testdata/screenshots (ignored by git).
func screenshotDir(t *testing.T) string {
	dir := filepath.Join("testdata", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshots writes the page at a phone's and a laptop's size, in light
// and dark mode, as name-WxH-scheme.png.
func screenshots(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	for _, size := range [][2]int64{{360, 640}, {1280, 800}} {
		for _, scheme := range []string{"light", "dark"} {
			err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1]))
			if err == nil {
				_, err = chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
				})
			}
			var png []byte
			if err == nil {
				png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
			}
			if err != nil || len(png) == 0 {
				t.Fatalf("screenshot %s %dx%d %s: %v", name, size[0], size[1], scheme, err)
			}
			file := filepath.Join(dir, fmt.Sprintf("%s-%dx%d-%s.png", name, size[0], size[1], scheme))
			if err := os.WriteFile(file, png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("screenshots of the %s in %s", name, dir)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// loginInChromium logs a counsellor in to the console in the browser and
// waits for the queue.
func loginInChromium(t *testing.T, ctx context.Context, url, name, password string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(url+"/console/"),
		chromedp.WaitVisible(chromedp.CSS(`#name`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), name),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`#queue-rows`)),
	)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
}
