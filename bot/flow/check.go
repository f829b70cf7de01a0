package flow

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/helpline/helpline/bot"
)

// validPayload is what Telegram allows in a /start deep link.
var validPayload = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// inputTypes are the validators a free answer may have.
var inputTypes = map[string]bool{"text": true, "number": true, "yesno": true, "country": true}

// Check finds the mistakes that would stop the set from running: unknown
// flows and nodes, unreachable nodes and flows, nodes that do two things at
// once, bad conditions. It knows nothing of the locales; lint adds those.
// Empty entries (a lone "-" in a list) are reported and dropped, so that
// nothing after the check trips over them.
func (s *Set) Check() []Error {
	c := checker{set: s}
	c.global()
	ids := make([]string, 0, len(s.Flows))
	for id := range s.Flows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c.flow(s.Flows[id])
	}
	c.reachable()
	slices.SortFunc(c.errs, func(a, b Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Msg, b.Msg))
	})
	return c.errs
}

type checker struct {
	set  *Set
	errs []Error
}

func (c *checker) add(file string, line int, format string, args ...any) {
	c.errs = append(c.errs, Error{file, line, fmt.Sprintf(format, args...)})
}

func (c *checker) global() {
	g := &c.set.Global
	for _, f := range []struct{ what, id string }{{"welcome", g.Welcome}, {"menu", g.Menu}} {
		if c.set.Flows[f.id] == nil {
			c.add(g.File, 1, "%s flow %q does not exist", f.what, f.id)
		}
	}
	slash := map[string]string{}
	g.Commands = slices.DeleteFunc(g.Commands, func(cmd *Command) bool {
		if cmd == nil {
			c.add(g.File, 1, "an empty entry in commands")
		}
		return cmd == nil
	})
	for _, cmd := range g.Commands {
		if cmd.Name == "" {
			c.add(g.File, cmd.Line, "a command has no name")
		}
		if cmd.Keywords == "" && len(cmd.Slash) == 0 {
			c.add(g.File, cmd.Line, "command %q has no keywords or slash form", cmd.Name)
		}
		actions := 0
		for _, flowID := range []string{cmd.Goto, cmd.Call} {
			if flowID == "" {
				continue
			}
			actions++
			if c.set.Flows[flowID] == nil {
				c.add(g.File, cmd.Line, "command %q: flow %q does not exist", cmd.Name, flowID)
			}
		}
		if cmd.Erase {
			actions++
		}
		if actions != 1 {
			c.add(g.File, cmd.Line, "command %q must do exactly one of goto, call and erase", cmd.Name)
		}
		for _, s := range cmd.Slash {
			if !strings.HasPrefix(s, "/") || strings.ContainsAny(s, " @") {
				c.add(g.File, cmd.Line, "command %q: slash form %q must be one word that starts with /", cmd.Name, s)
			}
			if other, dup := slash[strings.ToLower(s)]; dup {
				c.add(g.File, cmd.Line, "slash form %s belongs to both %q and %q", s, other, cmd.Name)
			}
			slash[strings.ToLower(s)] = cmd.Name
		}
	}
	c.alarms()
	for payload, l := range g.Links {
		if l == nil {
			c.add(g.File, 1, "link %q opens nothing", payload)
			delete(g.Links, payload)
			continue
		}
		if !validPayload.MatchString(payload) {
			c.add(g.File, l.Line, "link %q: a deep link payload is 1 to 64 letters, digits, _ or -", payload)
		}
		if c.set.Flows[l.Flow] == nil {
			c.add(g.File, l.Line, "link %q: flow %q does not exist", payload, l.Flow)
		}
	}
}

// alarms checks that both alarms are answered, each by a flow that exists.
func (c *checker) alarms() {
	g := &c.set.Global
	for _, a := range []struct {
		kind string
		a    *Alarm
	}{{"danger", g.Alarms.Danger}, {"selfharm", g.Alarms.SelfHarm}} {
		switch {
		case a.a == nil:
			c.add(g.File, g.Alarms.Line, "alarms: no answer to %s: the safety net must answer it", a.kind)
		case a.a.Say == "" || a.a.Call == "":
			c.add(g.File, a.a.Line, "alarm %s needs say (the guidance) and call (the offer of help)", a.kind)
		case c.set.Flows[a.a.Call] == nil:
			c.add(g.File, a.a.Line, "alarm %s: flow %q does not exist", a.kind, a.a.Call)
		case a.a.Urgent == "":
			c.add(g.File, a.a.Line, "alarm %s needs urgent: the node of %s that asks for a counsellor at once", a.kind, a.a.Call)
		case c.set.Flows[a.a.Call].Nodes[a.a.Urgent] == nil || c.set.Flows[a.a.Call].Nodes[a.a.Urgent].Handoff == nil:
			c.add(g.File, a.a.Line, "alarm %s: urgent %q is not a node of %s that hands off", a.kind, a.a.Urgent, a.a.Call)
		}
	}
}

func (c *checker) flow(f *Flow) {
	if f.Nodes[f.Start] == nil {
		c.add(f.File, f.Line, "flow %q: start node %q does not exist", f.ID, f.Start)
	}
	for _, id := range f.Order {
		c.node(f, f.Nodes[id])
	}
}

func (c *checker) node(f *Flow, n *Node) {
	if slices.Contains(n.Choices, nil) || slices.Contains(n.Branch, nil) {
		c.add(f.File, n.Line, "node %q has an empty choice or case", n.ID)
		n.Choices = slices.DeleteFunc(n.Choices, func(o *Option) bool { return o == nil })
		n.Branch = slices.DeleteFunc(n.Branch, func(cs *Case) bool { return cs == nil })
	}
	kinds := 0
	for _, has := range []bool{n.Ask.Msg != "", len(n.Branch) > 0, n.Call != "", n.End, n.Erase} {
		if has {
			kinds++
		}
	}
	if kinds > 1 {
		c.add(f.File, n.Line, "node %q does more than one of ask, branch, call, end and erase", n.ID)
	}
	if n.End && n.Next != "" {
		c.add(f.File, n.Line, "node %q ends the flow and also names next", n.ID)
	}
	if n.Ask.Msg != "" {
		answers := 0
		for _, has := range []bool{len(n.Choices) > 0, n.Input != nil, n.Languages} {
			if has {
				answers++
			}
		}
		if answers != 1 {
			c.add(f.File, n.Line, "node %q asks, so it needs exactly one of choices, input and languages", n.ID)
		}
	} else if len(n.Choices) > 0 || n.Input != nil || n.Languages {
		c.add(f.File, n.Line, "node %q has answers but no ask", n.ID)
	}
	for _, o := range n.Choices {
		if o.Label == "" {
			c.add(f.File, o.Line, "a choice of node %q has no label", n.ID)
		}
		switch {
		case n.Many != "" && (o.Value == "" || strings.Contains(o.Value, " ")):
			c.add(f.File, o.Line, "a choice of node %q, which picks many, needs a value of one word", n.ID)
		case n.Many != "" && (o.Next != "" || len(o.Set) > 0 || len(o.Add) > 0):
			c.add(f.File, o.Line, "a choice of node %q, which picks many, adds its value only: no next, set or add", n.ID)
		case n.Many == "" && o.Value != "":
			c.add(f.File, o.Line, "a choice of node %q has a value, but the node does not pick many", n.ID)
		}
	}
	if n.Many != "" && len(n.Choices) == 0 {
		c.add(f.File, n.Line, "node %q picks many, so it needs choices", n.ID)
	}
	r := c.set.Global.Replies
	if n.Many != "" && r.Done == "" {
		c.add(c.set.Global.File, 1, "node %q of flow %q picks many: replies needs done, the label that goes on", n.ID, f.ID)
	}

	if in := n.Input; in != nil {
		if !inputTypes[in.Type] {
			c.add(f.File, n.Line, "node %q: input type %q is not one of text, number, yesno, country", n.ID, in.Type)
		}
		if in.Var == "" {
			c.add(f.File, n.Line, "node %q: input needs a var to keep the answer in", n.ID)
		}
	}
	for _, cs := range n.Branch {
		switch {
		case cs.If == nil:
		case cs.If.Open != nil && (cs.If.Var != "" || cs.If.ops() != 1):
			c.add(f.File, cs.Line, "node %q: a condition on the opening hours (open) takes no var and no other comparison", n.ID)
		case cs.If.Waiting != nil && (cs.If.Var != "" || cs.If.ops() != 1):
			c.add(f.File, cs.Line, "node %q: a condition on a waiting request (waiting) takes no var and no other comparison", n.ID)
		case cs.If.Open == nil && cs.If.Waiting == nil && (cs.If.Var == "" || cs.If.ops() != 1):
			c.add(f.File, cs.Line, "node %q: a condition needs a var and exactly one comparison", n.ID)
		}
	}
	if h := n.Handoff; h != nil {
		if _, ok := bot.ParsePriority(h.Priority); !ok {
			c.add(f.File, n.Line, "node %q: priority %q is not one of normal, high, urgent", n.ID, h.Priority)
		}
	}
	if n.Call != "" && c.set.Flows[n.Call] == nil {
		c.add(f.File, n.Line, "node %q calls flow %q, which does not exist", n.ID, n.Call)
	}
	for _, t := range n.targets() {
		if !c.targetExists(f, t.to) {
			c.add(f.File, t.line, "node %q: target %q does not exist", n.ID, t.to)
		}
	}
}

func (c *checker) targetExists(f *Flow, to string) bool {
	if id, ok := strings.CutPrefix(to, "@"); ok {
		return c.set.Flows[id] != nil
	}
	return f.Nodes[to] != nil
}

type edge struct {
	to   string
	line int
}

// targets lists every node or @flow the node may lead to.
func (n *Node) targets() []edge {
	var out []edge
	add := func(to string, line int) {
		if to != "" {
			out = append(out, edge{to, line})
		}
	}
	add(n.Next, n.Line)
	add(n.Fail, n.Line)
	for _, o := range n.Choices {
		add(o.Next, o.Line)
	}
	for _, cs := range n.Branch {
		add(cs.Next, cs.Line)
	}
	return out
}

// reachable reports nodes no path reaches from their flow's start, and flows
// that nothing enters.
func (c *checker) reachable() {
	g := &c.set.Global
	entered := map[string]bool{g.Welcome: true, g.Menu: true}
	for _, cmd := range g.Commands {
		entered[cmd.Goto], entered[cmd.Call] = true, true
	}
	for _, a := range []*Alarm{g.Alarms.Danger, g.Alarms.SelfHarm} {
		if a != nil {
			entered[a.Call] = true
		}
	}
	for _, l := range g.Links {
		entered[l.Flow] = true
	}
	for _, f := range c.set.Flows {
		seen := map[string]bool{}
		stack := []string{f.Start}
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n := f.Nodes[id]
			if n == nil || seen[id] {
				continue
			}
			seen[id] = true
			entered[n.Call] = true
			for _, t := range n.targets() {
				if flowID, ok := strings.CutPrefix(t.to, "@"); ok {
					entered[flowID] = true
				} else {
					stack = append(stack, t.to)
				}
			}
		}
		for _, id := range f.Order {
			if !seen[id] {
				c.add(f.File, f.Nodes[id].Line, "node %q is unreachable from the start of flow %q", id, f.ID)
			}
		}
	}
	for id, f := range c.set.Flows {
		if !entered[id] {
			c.add(f.File, f.Line, "flow %q is never entered: no command, link, call or target leads to it", id)
		}
	}
}
