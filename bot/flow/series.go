package flow

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/helpline/helpline/bot"
)

// minSeries is the fewest questions that make a series worth numbering.
const minSeries = 3

// place is a question's place in its series: question n of total.
type place struct{ n, total int }

// findSeries numbers the questions that follow one another in a straight
// line: a question whose every answer goes on to the same next question,
// through nodes that only say something. The self-check's questions and
// the quiz's are such series; a question whose answers branch ends one.
// Only lines of minSeries questions or more, joined by no other line, are
// numbered, so that a person sees "3 of 7" only where it is true.
func findSeries(set *Set) map[string]place {
	out := map[string]place{}
	for _, f := range set.Flows {
		next := map[string]string{}
		preds := map[string]int{}
		for _, id := range f.Order {
			if s := straightNext(f, f.Nodes[id]); s != "" {
				next[id] = s
				preds[s]++
			}
		}
		for _, id := range f.Order {
			if f.Nodes[id].Ask.Msg == "" || preds[id] > 0 || next[id] == "" {
				continue
			}
			line := []string{id}
			for s := next[id]; s != "" && !slices.Contains(line, s) && preds[s] == 1; s = next[s] {
				line = append(line, s)
			}
			if len(line) < minSeries {
				continue
			}
			for i, q := range line {
				out[f.ID+"/"+q] = place{i + 1, len(line)}
			}
		}
	}
	return out
}

// straightNext returns the question every answer of question n leads to,
// in the same flow, past nodes that only set and say; "" if there is none.
func straightNext(f *Flow, n *Node) string {
	if n == nil || n.Ask.Msg == "" {
		return ""
	}
	for _, o := range n.Choices {
		if o.Next != "" {
			return ""
		}
	}
	target := n.Next
	for hops := 0; hops < maxHops && target != "" && !strings.HasPrefix(target, "@"); hops++ {
		m := f.Nodes[target]
		switch {
		case m == nil:
			return ""
		case m.Ask.Msg != "":
			return target
		case len(m.Branch) > 0 || m.Call != "" || m.Handoff != nil || m.End || m.Erase:
			return ""
		}
		target = m.Next
	}
	return ""
}

// findKinds marks the choices that forget the person: at once (the answer
// to "do you want that?"), or through a question that confirms it (the
// menu's "Forget me").
func findKinds(set *Set) map[*Option]bot.ChoiceKind {
	out := map[*Option]bot.ChoiceKind{}
	erases := func(f *Flow, n *Node, o *Option) bool {
		_, t := set.target(f, cmp.Or(o.Next, n.Next))
		return t != nil && t.Erase
	}
	for _, f := range set.Flows {
		for _, n := range f.Nodes {
			for _, o := range n.Choices {
				tf, t := set.target(f, cmp.Or(o.Next, n.Next))
				switch {
				case t == nil:
				case t.Erase:
					out[o] = bot.ChoiceErase
				case slices.ContainsFunc(t.Choices, func(p *Option) bool { return erases(tf, t, p) }):
					out[o] = bot.ChoiceForget
				}
			}
		}
	}
	return out
}

// target resolves a node's or an option's next in flow f: a node of f, or
// @flow for that flow's start.
func (s *Set) target(f *Flow, next string) (*Flow, *Node) {
	if id, ok := strings.CutPrefix(next, "@"); ok {
		if f = s.Flows[id]; f == nil {
			return nil, nil
		}
		next = f.Start
	}
	if next == "" {
		return f, nil
	}
	return f, f.Nodes[next]
}

// Greeting is what a first message to the web chat gets, in the language
// the hints choose:
// the welcome up to its first question. It changes nothing and keeps
// nothing, so a page can show it before the person writes; a tap on one of
// its choices, sent as the person's first message, answers that question.
func (e *Engine) Greeting(hints ...string) bot.Reply {
	_, replies, _ := e.Step(bot.Session{}, bot.Inbound{Channel: bot.Web, LangHints: hints}, time.Time{})
	if len(replies) == 0 {
		return bot.Reply{}
	}
	return replies[0]
}

// welcome starts a first conversation. A first message may already answer
// the welcome's first question (a tap on the Greeting a page showed): the
// welcome then runs quietly up to that question and takes the answer.
func (st *stepper) welcome() {
	mark := len(st.texts)
	st.goTo(st.e.set.Global.Welcome)
	if st.in.Choice == "" || len(st.s.Stack) == 0 || !st.asked(st.in.Choice) {
		return
	}
	st.texts, st.shorts, st.choices = st.texts[:mark], st.shorts[:mark], nil
	st.answer("", true)
}

// languageArg takes "/language et": a slash command that calls a flow
// which starts by asking the language takes a language code after it as
// the answer, so that a page's language switch is one message. It reports
// whether it did.
func (st *stepper) languageArg(id string) bool {
	_, arg, _ := strings.Cut(st.in.Text, " ")
	arg = strings.ToLower(strings.TrimSpace(arg))
	f := st.e.set.Flows[id]
	if !strings.HasPrefix(st.in.Text, "/") || !slices.Contains(st.e.langs, arg) || f == nil {
		return false
	}
	if n := f.Nodes[f.Start]; n == nil || !n.Languages {
		return false
	}
	st.s.Stack = append(st.s.Stack, bot.Frame{Flow: id, Node: f.Start})
	st.s.Retries = 0
	st.answer(arg, true)
	return true
}
