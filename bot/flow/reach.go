package flow

import (
	"cmp"
	"strconv"
)

// ChoicesReaching lists the choices (as ChoiceID names them) from which
// the conversation reaches a node that stop holds for before it asks
// anything again: through nodes that only say, set, branch (any arm) or
// call another flow. The skip of a free-input question is named when its
// answer leads there: a typed answer goes the same way. The load driver keeps its simulated people away from
// the choices that lead to a counsellor's queue or to an erase this way,
// whatever the flows say.
func (s *Set) ChoicesReaching(stop func(*Node) bool) []string {
	var out []string
	for _, f := range s.Flows {
		for _, id := range f.Order {
			n := f.Nodes[id]
			leads := func(next string) bool { return s.reaches(f, next, stop, map[*Node]bool{}) }
			switch {
			case n.Many != "":
				// A pick asks again; done goes on.
				if leads(n.Next) {
					out = append(out, ChoiceID(f.ID, n.ID, "done"))
				}
			case n.Input != nil:
				// So does a typed answer.
				if leads(n.Next) {
					out = append(out, ChoiceID(f.ID, n.ID, "skip"))
				}
			}
			if n.Many != "" {
				continue
			}
			for i, o := range n.Choices {
				if leads(cmp.Or(o.Next, n.Next)) {
					out = append(out, ChoiceID(f.ID, n.ID, strconv.Itoa(i)))
				}
			}
		}
	}
	return out
}

// reaches walks from next in flow f up to the next question.
func (s *Set) reaches(f *Flow, next string, stop func(*Node) bool, seen map[*Node]bool) bool {
	f, n := s.target(f, next)
	if n == nil || seen[n] {
		return false
	}
	seen[n] = true
	switch {
	case stop(n):
		return true
	case n.Ask.Msg != "" || len(n.Choices) > 0 || n.Input != nil || n.Languages:
		return false
	}
	for _, c := range n.Branch {
		if s.reaches(f, c.Next, stop, seen) {
			return true
		}
	}
	if n.Call != "" && s.reaches(f, "@"+n.Call, stop, seen) {
		return true
	}
	return !n.End && s.reaches(f, n.Next, stop, seen)
}

// AlarmFlows lists the flows that answer danger and self-harm (the
// alarms' call): their replies are the ones sent late rather than never.
func (s *Set) AlarmFlows() []string {
	var out []string
	for _, a := range []*Alarm{s.Global.Alarms.Danger, s.Global.Alarms.SelfHarm} {
		if a != nil && a.Call != "" {
			out = append(out, a.Call)
		}
	}
	return out
}
