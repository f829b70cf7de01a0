package flow_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/flow/flowtest"
)

// TestOutOfHoursBeforeTheQuestions: while counsellors are not at work, a
// person who asks for one hears so at once, with the menu, before any
// question whose answers only a counsellor would read, and no case opens;
// at work, the same tap asks the first question.
func TestOutOfHoursBeforeTheQuestions(t *testing.T) {
	_, cat := flowtest.Shipped(t)
	en := func(id string) string { s, _ := cat.Text("en", id, nil, nil); return s }
	for _, open := range []bool{false, true} {
		e := flowtest.ShippedWith(t, flow.Options{Open: func(time.Time) bool { return open }})
		start := func() *person {
			p := newPerson(t, e, "en")
			p.say("/start")
			p.tap("English")
			p.tap(en("welcome.safe_yes"))
			return p
		}
		p := start()
		got := p.tap(en("menu.counsellor"))
		closed := strings.Contains(got, en("queue.closed"))
		asked := strings.Contains(got, en("counsellor.intro"))
		if closed == open || asked != open {
			t.Errorf("open %v: asking for a counsellor answered %q", open, got)
		}
		if !open && (!strings.Contains(got, en("menu.question")) || p.has(bot.Handoff) != nil || p.s.Case.State != bot.NoCase) {
			t.Errorf("out of hours: %q, case %+v; want the menu and no case", got, p.s.Case)
		}
		p = start()
		p.tap(en("menu.someone"))
		got = p.tap(en("someone.talk"))
		if strings.Contains(got, en("queue.closed")) == open || strings.Contains(got, en("someone.note")) != open {
			t.Errorf("open %v: talking about someone answered %q", open, got)
		}
	}
}

// TestOpenConditionChecked: a condition on the opening hours takes no
// variable and no other comparison; lint says so.
func TestOpenConditionChecked(t *testing.T) {
	global, err := os.ReadFile("testdata/mini/flows/commands.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for src, bad := range map[string]bool{
		"id: x\nnodes:\n  a:\n    branch:\n      - {if: {open: false}, next: b}\n    next: b\n  b:\n    end: true\n":                   false,
		"id: x\nnodes:\n  a:\n    branch:\n      - {if: {open: false, var: v}, next: b}\n    next: b\n  b:\n    end: true\n":           true,
		"id: x\nnodes:\n  a:\n    branch:\n      - {if: {open: true, eq: \"1\", var: v}, next: b}\n    next: b\n  b:\n    end: true\n": true,
	} {
		set, err := flow.Load(fstestFS(map[string][]byte{"commands.yaml": global, "x.yaml": []byte(src)}))
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, e := range set.Check() {
			found = found || strings.Contains(e.Msg, "opening hours")
		}
		if found != bad {
			t.Errorf("%q: lint found a bad hours condition: %v, want %v", src, found, bad)
		}
	}
}
