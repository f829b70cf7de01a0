package webchat_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/helpline/helpline/bot/browsertest"
	"github.com/helpline/helpline/bot/webchat"
)

// TestPageInChromium talks to the bot in a real browser, taps a button,
// then presses Escape: the page must land on the neutral site, in place of
// the chat in the history, with nothing left in sessionStorage.
func TestPageInChromium(t *testing.T) {
	neutral := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<!doctype html><title>Weather</title><p>Sunny"))
	}))
	defer neutral.Close()
	f := newChat(t, webchat.Options{ExitURL: neutral.URL + "/weather"})
	ctx := browsertest.New(t)
	wait := chromedp.WithPollingTimeout(10 * time.Second)

	err := chromedp.Do(ctx,
		chromedp.Navigate(f.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#text")),
		chromedp.SendKeys(chromedp.CSS("#text"), "hello"),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".choices button")),
	)
	if err != nil {
		t.Fatal(err)
	}
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".msg.bot").textContent`))
	if err != nil || !strings.Contains(first, "name") {
		t.Fatalf("first bot message %q (%v)", first, err)
	}
	token, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("hl-token")`))
	if err != nil || len(token) < 16 {
		t.Fatalf("token %q (%v)", token, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".choices button"), chromedp.NodeVisible)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll(".msg.bot").length >= 2`, wait)); err != nil {
		t.Fatalf("no answer to the tap: %v", err)
	}
	disabled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(".choices button").disabled`))
	if err != nil || !disabled {
		t.Fatalf("the tapped keyboard should be disabled: %v %v", disabled, err)
	}

	before, err := chromedp.Run(ctx, chromedp.Evaluate[int](`history.length`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	// The page navigates away: read the location until it is the neutral
	// site (a read during the navigation itself may fail).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if strings.HasSuffix(loc, "/weather") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Escape did not leave for the neutral site; at %q", loc)
		}
	}
	after, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`history.length`))
	if after != before {
		t.Fatalf("history grew from %d to %d: Quick Exit must replace the chat, so Back cannot return to it", before, after)
	}
	err = chromedp.Do(ctx, chromedp.Navigate(f.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#text")))
	if err != nil {
		t.Fatal(err)
	}
	again, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("hl-token")`))
	if err != nil || again == token {
		t.Fatalf("after Quick Exit the page still knows the old token (%v)", err)
	}
}
