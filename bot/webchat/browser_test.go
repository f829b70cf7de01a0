package webchat_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/browsertest"
	"github.com/helpline/helpline/bot/flow/flowtest"
	"github.com/helpline/helpline/bot/webchat"
)

// page drives one web chat page in Chromium.
type page struct {
	t   *testing.T
	ctx context.Context
}

func openPage(t *testing.T, url string) page {
	p := page{t, browsertest.New(t)}
	p.do(chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS("#text")))
	return p
}

func (p page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatal(err)
	}
}

func (p page) str(js string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	return s
}

func (p page) num(js string) int {
	p.t.Helper()
	n, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](js))
	if err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	return n
}

// wait polls until js holds, or fails the test saying what did not happen.
func (p page) wait(js, what string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		p.t.Fatalf("%s: %v (the log reads %q)", what, err, p.str(`document.getElementById("log").innerText`))
	}
}

const spoken = `document.querySelectorAll("#log .msg.bot, #log .msg.counsellor").length`

// tap taps the open button whose text is label and waits for the answer.
func (p page) tap(label string) {
	p.t.Helper()
	before := p.num(spoken)
	p.press(label)
	p.wait(spoken+" > "+strconv.Itoa(before), "no answer to "+label)
}

// press taps the open button whose text is label, once it is there.
func (p page) press(label string) {
	p.t.Helper()
	find := `[].find.call(document.querySelectorAll(".choices:not([hidden]) button, .confirm button"), function (b) { return b.textContent.trim() === ` + strconv.Quote(label) + ` })`
	p.wait("!!"+find, "no button "+label)
	p.do(chromedp.Evaluate[chromedp.Void](find + ".click()"))
}

// lastBot is the text of the last message the bot or a counsellor said.
func (p page) lastBot() string {
	return p.str(`(function(){var m=document.querySelectorAll("#log .msg.bot, #log .msg.counsellor"); return m[m.length-1].innerText})()`)
}

// TestPageInChromium: the page greets at once, with the safety note and
// the language buttons, before the person writes and before it makes a
// token; a tap answers the greeting, which folds into the chosen language,
// marked. Escape then lands on the neutral site, in place of the chat in
// the history, with nothing left in sessionStorage.
func TestPageInChromium(t *testing.T) {
	neutral := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<!doctype html><title>Weather</title><p>Sunny"))
	}))
	defer neutral.Close()
	f := newChat(t, webchat.Options{ExitURL: neutral.URL + "/weather"})
	p := openPage(t, f.srv.URL)

	if g := p.str(`document.querySelector("#greeting .msg.bot").textContent`); !strings.Contains(g, "closing the tab forgets") {
		t.Fatalf("the page does not greet at once: %q", g)
	}
	if note := p.str(`document.getElementById("note").textContent`); !strings.Contains(note, "112") || !strings.Contains(note, "closing the tab forgets") {
		t.Fatalf("safety note %q", note)
	}
	if n := p.num(`document.querySelectorAll("#greeting .choices button").length`); n != 12 {
		t.Fatalf("the greeting offers %d languages, want 12", n)
	}
	if tok := p.str(`sessionStorage.getItem("hl-token") || ""`); tok != "" {
		t.Fatal("a page view made a token before the person did anything")
	}
	if keys := personKeys(t); len(keys) > 0 {
		t.Fatalf("a page view stored %q", keys)
	}
	p.tap("English")
	if got := p.lastBot(); !strings.Contains(got, "FORGET ME") || !strings.Contains(got, "safe for you to write") {
		t.Fatalf("after choosing English: %q", got)
	}
	if n := p.num(`document.querySelectorAll("#greeting button").length`); n != 0 {
		t.Fatalf("the answered greeting still has %d buttons", n)
	}
	if c := p.str(`document.querySelector("#greeting .chosen").textContent`); c != "English" {
		t.Fatalf("the greeting folded into %q, want the chosen English", c)
	}
	token := p.str(`sessionStorage.getItem("hl-token")`)
	if len(token) < 16 {
		t.Fatalf("token %q", token)
	}
	if len(personKeys(t)) == 0 {
		t.Fatal("the conversation left no session: the check of a page view cannot see one")
	}

	before := p.num(`history.length`)
	p.do(chromedp.KeyEvent(kb.Escape))
	// The page navigates away: read the location until it is the neutral
	// site (a read during the navigation itself may fail).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		loc, _ := chromedp.Run(p.ctx, chromedp.Location())
		if strings.HasSuffix(loc, "/weather") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Escape did not leave for the neutral site; at %q", loc)
		}
	}
	if after, _ := chromedp.Run(p.ctx, chromedp.Evaluate[int](`history.length`)); after != before {
		t.Fatalf("history grew from %d to %d: Quick Exit must replace the chat, so Back cannot return to it", before, after)
	}
	p.do(chromedp.Navigate(f.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#text")))
	if again := p.str(`sessionStorage.getItem("hl-token") || ""`); again == token {
		t.Fatal("after Quick Exit the page still knows the old token")
	}
}

// TestPageFollowsLanguage: choosing Estonian turns the page's own words
// and <html lang> Estonian; the language switch then turns it Latvian,
// and the conversation with it. Questions of a series say where the person
// is, in the person's language.
func TestPageFollowsLanguage(t *testing.T) {
	f := newChat(t, webchat.Options{})
	_, cat := flowtest.Shipped(t)
	word := func(l, id string) string { s, _ := cat.Text(l, id, nil, nil); return s }
	p := openPage(t, f.srv.URL)
	p.tap("Eesti")
	p.wait(`document.documentElement.lang === "et"`, "<html lang> did not turn et")
	for sel, id := range map[string]string{"#send": "web.send", "#exit": "web.exit", "#title": "web.title"} {
		if got := p.str(`document.querySelector("` + sel + `").textContent`); got != word("et", id) {
			t.Errorf("%s reads %q, want the Estonian %q", sel, got, word("et", id))
		}
	}
	if got := p.str(`document.getElementById("text").placeholder`); got != word("et", "web.placeholder") {
		t.Errorf("placeholder %q", got)
	}
	if got := p.str(`document.getElementById("lang").value`); got != "et" {
		t.Errorf("the language switch shows %q", got)
	}

	before := p.num(spoken)
	p.do(chromedp.SetValue(chromedp.CSS("#lang"), "lv"), chromedp.Evaluate[chromedp.Void](`document.getElementById("lang").dispatchEvent(new Event("change"))`))
	p.wait(spoken+" > "+strconv.Itoa(before), "no answer to the language switch")
	p.wait(`document.documentElement.lang === "lv"`, "<html lang> did not turn lv")
	if got := p.lastBot(); !strings.Contains(got, word("lv", "language.done")) || !strings.Contains(got, word("lv", "welcome.safe_now")) {
		t.Fatalf("after switching to Latvian: %q", got)
	}
	if got := p.str(`document.querySelector("#send").textContent`); got != word("lv", "web.send") {
		t.Errorf("Send reads %q after the switch", got)
	}

	p.tap(word("lv", "welcome.safe_yes"))
	p.tap(word("lv", "menu.selfcheck"))
	p.tap(word("lv", "common.no"))
	p.tap(word("lv", "common.no"))
	if got := p.str(`(function(){var s=document.querySelectorAll("#log .step"); return s[s.length-1].textContent})()`); got != "3 no 8" {
		t.Fatalf("the third self-check question says %q, want 3 no 8", got)
	}
}

// TestCounsellorMarked: a counsellor's message is marked "Counsellor",
// with no name, in a colour of its own; the person hears when the
// counsellor joins and leaves, and is asked to keep the tab open meanwhile.
func TestCounsellorMarked(t *testing.T) {
	f := newChat(t, webchat.Options{})
	p := openPage(t, f.srv.URL)
	p.tap("English")
	token := p.str(`sessionStorage.getItem("hl-token")`)
	event := func(ev bot.Event, id, text string) {
		t.Helper()
		before := p.num(spoken)
		in := bot.Inbound{Event: ev, Channel: bot.Web, Address: token, ID: id, Text: text}
		if err := f.disp.Handle(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		p.wait(spoken+" > "+strconv.Itoa(before), "the page did not show the counsellor's event")
	}
	event(bot.Claimed, "c1", "")
	if got := p.lastBot(); !strings.Contains(got, "A counsellor is here now") {
		t.Fatalf("joining: %q", got)
	}
	p.wait(`!document.getElementById("keep").hidden`, "no word to keep the tab open while a counsellor is there")
	event(bot.CounsellorSaid, "c2", "Hello, I am here with you.")
	who := p.str(`document.querySelector("#log .msg.counsellor .who").textContent`)
	if who != "Counsellor" {
		t.Fatalf("the counsellor's message is marked %q", who)
	}
	if got := p.str(`document.querySelector("#log .msg.counsellor").innerText`); !strings.HasSuffix(got, "Hello, I am here with you.") {
		t.Fatalf("counsellor's message %q", got)
	}
	colour := `getComputedStyle(document.querySelector("#log .msg.%s")).backgroundColor`
	if bot, human := p.str(strings.Replace(colour, "%s", "bot", 1)), p.str(strings.Replace(colour, "%s", "counsellor", 1)); bot == human {
		t.Fatalf("a counsellor's message has the bot's colour %s", bot)
	}
	event(bot.Ended, "c3", "")
	if got := p.lastBot(); !strings.Contains(got, "The counsellor has ended") {
		t.Fatalf("leaving: %q", got)
	}
	p.wait(`document.getElementById("keep").hidden`, "the keep-open word stays after the case ended")
}

// TestForgetMeAsksOnceInThePage: the menu's Forget me is shown apart, asks
// once in the page (no message goes out for the question), and then
// forgets: the screen clears, says so, and greets a new chat.
func TestForgetMeAsksOnceInThePage(t *testing.T) {
	f := newChat(t, webchat.Options{})
	p := openPage(t, f.srv.URL)
	p.tap("English")
	p.tap("Yes, it is safe")
	if cls := p.str(`[].find.call(document.querySelectorAll(".choices button"), function(b){return b.textContent==="Forget me"}).className`); cls != "forget" {
		t.Fatalf("Forget me has class %q; it should look different", cls)
	}
	token := p.str(`sessionStorage.getItem("hl-token")`)
	before := p.num(spoken)
	p.press("Forget me")
	p.wait(`!!document.querySelector(".confirm")`, "Forget me asks nothing")
	if p.num(spoken) != before {
		t.Fatal("the confirmation went to the server")
	}
	p.press("Yes, forget me")
	p.wait(`document.querySelector("#log .msg.bot") && document.querySelector("#log .msg.bot").textContent.indexOf("Everything about this chat is erased") >= 0`, "not forgotten")
	p.wait(`!!document.querySelector("#greeting .choices button")`, "no new greeting after Forget me")
	if again := p.str(`sessionStorage.getItem("hl-token") || ""`); again == token {
		t.Fatal("the forgotten token is still in the tab")
	}
}

// TestScreenshots writes the page at a phone's 360×640 and a laptop's
// 1280×800, light and dark, into a folder it names, for a reviewer to
// look at. It fails when the page overflows the phone's width.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("HELPLINE_SCREENSHOTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "webchat-screenshots-"); err != nil {
			t.Fatal(err)
		}
	}
	f := newChat(t, webchat.Options{})
	p := openPage(t, f.srv.URL)
	shoot := func(name string) {
		t.Helper()
		for _, size := range [][2]int64{{360, 640}, {1280, 800}} {
			for _, scheme := range []string{"light", "dark"} {
				p.do(chromedp.EmulateViewport(size[0], size[1]), colourScheme(scheme))
				if w := p.num(`document.documentElement.scrollWidth`); w > int(size[0]) {
					t.Errorf("%s at %dpx wide scrolls sideways (%dpx)", name, size[0], w)
				}
				png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
				if err != nil {
					t.Fatal(err)
				}
				file := filepath.Join(dir, name+"-"+strconv.Itoa(int(size[0]))+"x"+strconv.Itoa(int(size[1]))+"-"+scheme+".png")
				if err := os.WriteFile(file, png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	shoot("1-greeting")
	p.tap("English")
	p.tap("Yes, it is safe")
	p.tap("Am I being exploited?")
	p.tap("No")
	shoot("2-series")
	token := p.str(`sessionStorage.getItem("hl-token")`)
	for i, in := range []bot.Inbound{{Event: bot.Claimed}, {Event: bot.CounsellorSaid, Text: "Hello, I am a counsellor. I have read your answers. How are you right now?"}} {
		in.Channel, in.Address, in.ID = bot.Web, token, "s"+strconv.Itoa(i)
		if err := f.disp.Handle(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	p.wait(`!!document.querySelector("#log .msg.counsellor")`, "no counsellor's message")
	shoot("3-counsellor")
	t.Logf("screenshots of the web chat are in %s", dir)
}

// colourScheme makes the page see a light or a dark system theme.
func colourScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}
