package flow

import (
	"slices"
	"strings"
)

// Field is one variable a flow keeps for the counsellor's intake card.
type Field struct {
	// Var is the variable's name, the card's key.
	Var string
	// Free is true when the person typed the answer in their own words.
	Free bool
}

// Fields lists the card's variables in the order a person meets them: the
// flows as a walk from the welcome flow first enters them, each flow's
// variables in the order of its nodes. Variables that start with "_" are
// the engine's own and never on a card.
func (s *Set) Fields() []Field {
	var out []Field
	seen := map[string]bool{}
	add := func(name string, free bool) {
		if name == "" || strings.HasPrefix(name, "_") || seen[name] {
			return
		}
		seen[name] = true
		out = append(out, Field{Var: name, Free: free})
	}
	for _, f := range s.flowOrder() {
		for _, id := range f.Order {
			n := f.Nodes[id]
			if n == nil {
				continue
			}
			for _, k := range sortedKeys(n.Set) {
				add(k, false)
			}
			for _, k := range sortedKeys(n.Add) {
				add(k, false)
			}
			if n.Many != "" {
				add(n.Many, false)
			}
			for _, o := range n.Choices {
				for _, k := range sortedKeys(o.Set) {
					add(k, false)
				}
				for _, k := range sortedKeys(o.Add) {
					add(k, false)
				}
			}
			if n.Input != nil {
				add(n.Input.Var, n.Input.Type == "text")
			}
		}
	}
	return out
}

// flowOrder lists the flows as a depth-first walk from the welcome and the
// menu flows enters them, then the flows nothing leads to, by ID.
func (s *Set) flowOrder() []*Flow {
	var out []*Flow
	seen := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		f := s.Flows[id]
		if f == nil || seen[id] {
			return
		}
		seen[id] = true
		out = append(out, f)
		for _, nid := range f.Order {
			n := f.Nodes[nid]
			if n == nil {
				continue
			}
			visit(n.Call)
			for _, e := range n.targets() {
				if to, ok := strings.CutPrefix(e.to, "@"); ok {
					visit(to)
				}
			}
		}
	}
	visit(s.Global.Welcome)
	visit(s.Global.Menu)
	ids := make([]string, 0, len(s.Flows))
	for id := range s.Flows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		visit(id)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
