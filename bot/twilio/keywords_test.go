package twilio

import (
	"strings"
	"testing"

	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/flow/flowtest"
	"github.com/helpline/helpline/bot/safety"
	"github.com/helpline/helpline/locales"
)

// TestShippedWords checks the locales' words for this channel, which lint
// does not see because no flow names them: every language has its STOP
// words and its neutral greeting, and no STOP word is also a command's
// keyword or a START word, which STOP would silently take over, nor raises
// the safety net's alarm, which STOP would keep from the conversation.
func TestShippedWords(t *testing.T) {
	engine, cat := flowtest.Shipped(t)
	detector, err := safety.Load(locales.Safety())
	if err != nil {
		t.Fatal(err)
	}
	taken := map[string]string{}
	for _, c := range engine.Set().Global.Commands {
		for _, l := range cat.Languages() {
			text, _ := cat.Text(l, c.Keywords, nil, nil)
			for _, w := range strings.Split(text, "|") {
				taken[flow.Normalize(w)] = "a keyword of " + c.Name
			}
		}
	}
	for _, w := range twilioStart {
		taken[w] = "a START word"
	}
	for _, l := range cat.Languages() {
		for _, id := range []string{msgStop, msgNeutral} {
			if !cat.Has(l, id) {
				t.Errorf("%s lacks %s", l, id)
			}
		}
		text, _ := cat.Text(l, msgStop, nil, nil)
		for _, w := range append(strings.Split(text, "|"), twilioStop...) {
			n := flow.Normalize(w)
			if what, ok := taken[n]; ok && n != "" {
				t.Errorf("%s: STOP word %q is also %s", l, w, what)
			}
			if a := detector.Detect(w); a.Raised() {
				t.Errorf("%s: STOP word %q raises the alarm %+v", l, w, a)
			}
		}
	}
	k := newKeywords(cat, flow.Normalize)
	for text, want := range map[string]keyword{
		"STOPP": stopKeyword, " Стоп! ": stopKeyword, "stop": stopKeyword, "Lõpeta": stopKeyword,
		"START": startKeyword, "alusta": startKeyword, "Старт": startKeyword, "yes": startKeyword,
		"stop it now": noKeyword, "stopper": noKeyword, "": noKeyword,
	} {
		if got := k.kind(text, ""); got != want {
			t.Errorf("%q: %d, want %d", text, got, want)
		}
	}
}
