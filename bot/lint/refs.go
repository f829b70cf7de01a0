package lint

import (
	"io/fs"
	"slices"
	"strconv"

	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/lang"
	"gopkg.in/yaml.v3"
)

// use says how a flow uses a message.
type use uint8

const (
	// said is a message sent as (part of) a reply, rendered with the
	// session's variables.
	said use = iota
	// label is a choice's label.
	label
	// list is a |-separated word list (keywords, danger words, yes/no).
	list
	// name is a language's own name, shown on the language choices.
	name
)

// ref is one place where the flows name a message.
type ref struct {
	file  string
	line  int
	id    string
	use   use
	count bool // said with a count: a plural form is chosen
	what  string
}

// refs lists every message the commands file and the flows name, in file
// order.
func (l *linter) refs() []ref {
	var out []ref
	g := &l.set.Global
	add := func(file string, line int, id string, u use, count bool, what string) {
		if id != "" {
			out = append(out, ref{file, line, id, u, count, what})
		}
	}
	for _, c := range g.Commands {
		add(g.File, c.Line, c.Keywords, list, false, "keywords of command "+strconv.Quote(c.Name))
		add(g.File, c.Line, c.Say, said, false, "command "+strconv.Quote(c.Name))
	}
	lines := l.replyLines()
	r := g.Replies
	for _, rp := range []struct {
		key, id string
		use     use
	}{
		{"unsupported", r.Unsupported, said},
		{"stale", r.Stale, said},
		{"problem", r.Problem, said},
		{"language_name", r.LanguageName, name},
		{"yes", r.Yes, list},
		{"no", r.No, list},
		{"skip", r.Skip, label},
		{"done", r.Done, label},
		{"gave_up", r.GaveUp, said},
	} {
		add(g.File, lines[rp.key], rp.id, rp.use, false, "reply "+rp.key)
	}
	for kind, a := range map[string]*flow.Alarm{"danger": g.Alarms.Danger, "selfharm": g.Alarms.SelfHarm} {
		if a != nil {
			add(g.File, a.Line, a.Say, said, false, "alarm "+kind)
		}
	}
	add(g.File, g.Alarms.Line, g.Alarms.Raised, said, false, "alarms raised")
	cr := g.Cases
	for _, rp := range []struct {
		key, id string
		use     use
	}{
		{"noted", cr.Noted, said}, {"cancel", cr.Cancel, label}, {"cancel_words", cr.CancelWords, list},
		{"cancelled", cr.Cancelled, said}, {"keep", cr.Keep, label}, {"kept", cr.Kept, said},
		{"place_words", cr.PlaceWords, list}, {"closed", cr.Closed, said}, {"joined", cr.Joined, said},
		{"transferred", cr.Transferred, said}, {"ended", cr.Ended, said}, {"with", cr.With, said},
	} {
		add(g.File, cr.Line, rp.id, rp.use, false, "cases "+rp.key)
	}
	ids := make([]string, 0, len(l.set.Flows))
	for id := range l.set.Flows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		f := l.set.Flows[id]
		for _, nid := range f.Order {
			n := f.Nodes[nid]
			what := "node " + strconv.Quote(nid)
			for _, t := range n.Say {
				add(f.File, t.Line, t.Msg, said, t.Count != "", what)
			}
			add(f.File, n.Ask.Line, n.Ask.Msg, said, n.Ask.Count != "", what)
			for _, o := range n.Choices {
				add(f.File, o.Line, o.Label, label, false, what)
			}
			add(f.File, n.Line, n.Retry, said, false, what)
		}
	}
	// A message's channel variants must be in every language as the
	// message is: a person on that channel would read English otherwise.
	for _, r := range out {
		if r.use != said {
			continue
		}
		for _, ch := range []string{"web", "telegram", "whatsapp"} {
			if id := r.id + "." + ch; l.cat.Has(lang.Fallback, id) {
				out = append(out, ref{r.file, r.line, id, r.use, r.count, r.what + " on " + ch})
			}
		}
	}
	return out
}

// replyLines finds the line of each reply in the commands file, by its key
// under replies:, when the flow files are at hand.
func (l *linter) replyLines() map[string]int {
	lines := map[string]int{}
	if l.opts.Flows == nil || l.set.Global.File == "" {
		return lines
	}
	src, err := fs.ReadFile(l.opts.Flows, l.set.Global.File)
	if err != nil {
		return lines
	}
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil || len(doc.Content) == 0 {
		return lines
	}
	replies := mapValue(doc.Content[0], "replies")
	if replies == nil {
		return lines
	}
	for i := 0; i+1 < len(replies.Content); i += 2 {
		lines[replies.Content[i].Value] = replies.Content[i].Line
	}
	return lines
}

// mapValue returns the value of key in mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// choiceIDs reports questions whose choice IDs do not fit the 64 bytes of a
// Telegram button's callback data.
func (l *linter) choiceIDs() {
	langs := l.cat.Languages()
	for _, f := range l.set.Flows {
		for _, nid := range f.Order {
			n := f.Nodes[nid]
			var keys []string
			if len(n.Choices) > 0 {
				keys = append(keys, strconv.Itoa(len(n.Choices)-1))
			}
			if n.Languages {
				keys = append(keys, langs...)
			}
			for _, k := range keys {
				id := flow.ChoiceID(f.ID, nid, k)
				if len(id) > maxChoiceID {
					l.add(f.File, n.Line, Error, "node %q: choice ID %q is %d bytes, over the %d of Telegram's callback data: shorten the flow or node ID", nid, id, len(id), maxChoiceID)
					break
				}
			}
		}
	}
}

// maxChoiceID is the most bytes Telegram carries as a button's callback
// data.
const maxChoiceID = 64
