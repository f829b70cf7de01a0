package flow_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/flows"
	"github.com/helpline/helpline/locales"
)

// TestSessionWords: every name a session of the shipped flows holds (the
// flows' and nodes' IDs, the variables and the values the flows set, the
// risks, the language codes) is among the session's words, so that it is
// stored as a byte or two (bot.SessionWord). A name that is not costs its
// length in every session that holds it: the failure lists the lines to
// add at the end of bot/words.go.
func TestSessionWords(t *testing.T) {
	set, err := flow.Load(flows.FS())
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	names, err := sessionNames(set)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if !bot.SessionWord(name) && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		var b strings.Builder
		for _, m := range missing {
			fmt.Fprintf(&b, "\t%q,\n", m)
		}
		t.Errorf("%d names of the shipped flows are not session words; add them at the end of sessionWords in bot/words.go:\n%s", len(missing), b.String())
	}
}

// sessionNames lists what the flows of set can leave in a session.
func sessionNames(set *flow.Set) ([]string, error) {
	var out []string
	add := func(names ...string) {
		for _, n := range names {
			if n != "" {
				out = append(out, n)
			}
		}
	}
	sets := func(m map[string]string) {
		for k, v := range m {
			add(k, v)
		}
	}
	adds := func(m map[string]int) {
		for k := range m {
			add(k)
		}
	}
	// What the engine itself keeps.
	add("_alarm", "_noted", "_risks", "_alert", "danger", "selfharm", "1")
	cat, err := lang.Load(locales.FS())
	if err != nil {
		return nil, err
	}
	add(cat.Languages()...)
	for _, f := range set.Flows {
		add(f.ID, f.Notes)
		for id, n := range f.Nodes {
			add(id, n.Many)
			sets(n.Set)
			adds(n.Add)
			if n.Input != nil {
				add(n.Input.Var)
			}
			for _, o := range n.Choices {
				add(o.Risk, o.Alert, o.Value)
				sets(o.Set)
				adds(o.Add)
			}
			for _, c := range n.Branch {
				if c.If == nil {
					continue
				}
				add(c.If.Var)
				if c.If.Eq != nil {
					add(*c.If.Eq)
				}
				if c.If.Ne != nil {
					add(*c.If.Ne)
				}
				add(c.If.In...)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
