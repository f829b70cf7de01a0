package flow_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow/flowtest"
)

// TestGreetingAnsweredByFirstTap: the greeting a page shows before anyone
// writes is the welcome's first question, and a tap on it, sent as the
// person's first message, goes on past that question rather than greeting
// again.
func TestGreetingAnsweredByFirstTap(t *testing.T) {
	e, cat := flowtest.Shipped(t)
	g := e.Greeting("et-EE,et;q=0.9")
	hello, _ := cat.Text("et", "welcome.hello.web", nil, nil)
	if g.Lang != "et" || !strings.Contains(g.Text, hello) || len(g.Choices) != len(e.Languages()) {
		t.Fatalf("greeting %+v; want the Estonian welcome with every language", g)
	}
	p := newPerson(t, e, "et-EE,et;q=0.9")
	p.reply = g
	got := p.tap("Русский")
	safety, _ := cat.Text("ru", "welcome.safety", nil, nil)
	if p.s.Lang != "ru" || !strings.Contains(got, safety) || strings.Contains(got, hello) {
		t.Fatalf("after the tap (lang %q): %q; want the Russian safety note, no second greeting", p.s.Lang, got)
	}
	if p.reply.Lang != "ru" {
		t.Fatalf("the reply says its language is %q, want ru", p.reply.Lang)
	}
}

// TestSeriesSayWhereThePersonIs: the self-check's questions are numbered
// 1 to 8, the quiz's 1 to 3, and questions that branch are not numbered.
func TestSeriesSayWhereThePersonIs(t *testing.T) {
	e, _ := flowtest.Shipped(t)
	p := newPerson(t, e, "en")
	p.say("/start")
	if p.reply.Steps != 0 {
		t.Fatalf("the language question is numbered %d of %d", p.reply.Step, p.reply.Steps)
	}
	p.tap("English")
	p.tap("Yes, it is safe")
	p.tap("Am I being exploited?")
	for i := 1; i <= 8; i++ {
		if p.reply.Step != i || p.reply.Steps != 8 {
			t.Fatalf("question %d says %d of %d: %q", i, p.reply.Step, p.reply.Steps, p.reply.Text)
		}
		p.tap("No")
	}
	if p.reply.Steps != 0 {
		t.Fatalf("after the series: %d of %d", p.reply.Step, p.reply.Steps)
	}
	p.say("/menu")
	p.tap("Safe work abroad")
	p.tap("Quiz: 3 questions")
	for i := 1; i <= 3; i++ {
		if p.reply.Step != i || p.reply.Steps != 3 {
			t.Fatalf("quiz question %d says %d of %d", i, p.reply.Step, p.reply.Steps)
		}
		p.tap(p.reply.Choices[0].Label)
	}
}

// TestForgetChoicesMarked: the menu's Forget me leads to a confirmation and
// is marked so; the confirmation's yes forgets at once; nothing else is
// marked.
func TestForgetChoicesMarked(t *testing.T) {
	e, _ := flowtest.Shipped(t)
	p := newPerson(t, e, "en")
	p.say("/menu")
	for _, c := range p.reply.Choices {
		if want := map[bool]bot.ChoiceKind{true: bot.ChoiceForget}[c.Label == "Forget me"]; c.Kind != want {
			t.Errorf("menu choice %q is kind %d, want %d", c.Label, c.Kind, want)
		}
	}
	p.tap("Forget me")
	kinds := fmt.Sprint(p.reply.Choices[0].Kind, p.reply.Choices[1].Kind)
	if kinds != fmt.Sprint(bot.ChoiceErase, bot.ChoicePlain) {
		t.Fatalf("the confirmation's choices are kinds %s", kinds)
	}
}

// TestLanguageSwitchInOneMessage: "/language lv" switches at once and the
// person is back at the question they were at, in Latvian.
func TestLanguageSwitchInOneMessage(t *testing.T) {
	e, cat := flowtest.Shipped(t)
	p := newPerson(t, e, "en")
	p.say("/menu")
	got := p.say("/language lv")
	done, _ := cat.Text("lv", "language.done", nil, nil)
	question, _ := cat.Text("lv", "menu.question", nil, nil)
	if p.s.Lang != "lv" || p.reply.Lang != "lv" || !strings.Contains(got, done) || !strings.Contains(got, question) {
		t.Fatalf("after /language lv (lang %q): %q", p.s.Lang, got)
	}
	if p.say("/language xx"); len(p.reply.Choices) != len(e.Languages()) {
		t.Fatalf("an unknown code should ask the language, not %+v", p.reply)
	}
}

// TestCounsellorSpeaks: what a counsellor writes comes marked as theirs,
// with the case held; the engine's own word on the case is the bot's.
func TestCounsellorSpeaks(t *testing.T) {
	e, _ := flowtest.Shipped(t)
	p := newPerson(t, e, "en")
	p.say("hello")
	p.send(bot.Inbound{Event: bot.Claimed})
	if p.reply.From != bot.SpeakerBot || p.reply.Case != bot.Held {
		t.Fatalf("joined: from %d, case %v", p.reply.From, p.reply.Case)
	}
	p.send(bot.Inbound{Event: bot.CounsellorSaid, Text: "Hello, I am here."})
	if p.reply.From != bot.SpeakerCounsellor || p.reply.Text != "Hello, I am here." {
		t.Fatalf("counsellor's message: %+v", p.reply)
	}
	p.send(bot.Inbound{Event: bot.Ended})
	if p.reply.From != bot.SpeakerBot || p.reply.Case != bot.NoCase {
		t.Fatalf("ended: from %d, case %v", p.reply.From, p.reply.Case)
	}
}
