package flow_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/flow/flowtest"
	"github.com/helpline/helpline/flows"
)

// TestChoicesReaching: people who tap at random among the shipped flows'
// choices, but never one that ChoicesReaching names for a handoff or an
// erase, and type only "menu" where such a choice is shown (anything else
// may answer a free-input question), never reach a counsellor's queue nor
// an erase; people who may tap anything do.
func TestChoicesReaching(t *testing.T) {
	set, err := flow.Load(flows.FS())
	if err != nil {
		t.Fatal(err)
	}
	avoid := set.ChoicesReaching(func(n *flow.Node) bool { return n.Handoff != nil || n.Erase })
	if len(avoid) == 0 {
		t.Fatal("no choice of the shipped flows leads to a handoff or an erase")
	}
	e, _ := flowtest.Shipped(t)
	walk := func(seed uint64, careful bool) (handoffs, erases int) {
		rnd := rand.New(rand.NewPCG(seed, 1))
		p := newPerson(t, e, "en")
		p.say("/start")
		for range 200 {
			var ok []bot.Choice
			texts := []string{"hello", "what is this?", "menu"}
			for _, c := range p.reply.Choices {
				if !careful || !slices.Contains(avoid, c.ID) {
					ok = append(ok, c)
				} else {
					texts = []string{"menu"}
				}
			}
			if len(ok) == 0 || rnd.IntN(6) == 0 {
				p.say(texts[rnd.IntN(len(texts))])
			} else {
				p.tap(ok[rnd.IntN(len(ok))].Label)
			}
			if p.has(bot.Handoff) != nil || p.s.Case.State != bot.NoCase {
				handoffs++
				p.say("/cancel")
				p.s = bot.Session{}
				p.say("/start")
			}
			if p.has(bot.Erase) != nil {
				erases++
				p.say("/start")
			}
		}
		return handoffs, erases
	}
	var careless int
	for seed := range uint64(20) {
		if h, er := walk(seed, true); h+er > 0 {
			t.Errorf("seed %d: %d handoffs and %d erases without the choices named", seed, h, er)
		}
		h, er := walk(seed, false)
		careless += h + er
	}
	if careless == 0 {
		t.Error("people tapping every choice never reached a counsellor nor an erase: the walk proves nothing")
	}
}
