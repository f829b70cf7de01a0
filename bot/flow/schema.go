package flow

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Set is everything the engine runs: the flows and the global commands.
type Set struct {
	Flows  map[string]*Flow
	Global Global
	// Emergency lists the numbers to call by country (ISO 3166 alpha-2);
	// the entry "default" serves every other country.
	Emergency map[string]Numbers
	// Files lists the loaded files in load order, for lint.
	Files []string
}

// Global is the one commands file: the commands that work from anywhere,
// deep links, and the flows the engine enters on its own.
type Global struct {
	File string `yaml:"-"`
	// Welcome is the flow of a first contact.
	Welcome string `yaml:"welcome"`
	// Menu is the flow shown after a long pause or when a flow ends.
	Menu string `yaml:"menu"`
	// Replies names the messages the engine says on its own.
	Replies Replies `yaml:"replies"`
	// Commands work from any node.
	Commands []*Command `yaml:"commands"`
	// Links maps a deep link payload (a campaign) to what it opens.
	Links map[string]*Link `yaml:"links"`
	// Alarms answer what the safety detector notices, in any flow.
	Alarms Alarms `yaml:"alarms"`
	// Cases names what the engine says about a person's counsellor case.
	Cases CaseReplies `yaml:"cases"`
}

// Alarms say what answers danger and self-harm.
type Alarms struct {
	Line     int    `yaml:"-"`
	Danger   *Alarm `yaml:"danger"`
	SelfHarm *Alarm `yaml:"selfharm"`
	// Raised is said after the guidance to a person whose waiting case the
	// alarm made urgent.
	Raised string `yaml:"raised"`
}

// Alarm is the answer to one kind of alarm: Say at once, then the flow Call
// offers help and returns to where the person was. A person who waits for a
// counsellor or is with one hears Say only. A person already on the way to
// a counsellor (answering the intake) is not asked whether they want one:
// Urgent, a node of Call that hands off, asks for one at once.
type Alarm struct {
	Line   int    `yaml:"-"`
	Say    string `yaml:"say"`
	Call   string `yaml:"call"`
	Urgent string `yaml:"urgent"`
}

// CaseReplies are the message IDs of what the engine says about a case.
type CaseReplies struct {
	Line int `yaml:"-"`
	// Noted answers the first message a waiting person writes outside a
	// flow: it is passed on.
	Noted string `yaml:"noted"`
	// Cancel labels the choice that cancels a request; CancelWords lists
	// the words that do too; Cancelled answers them.
	Cancel      string `yaml:"cancel"`
	CancelWords string `yaml:"cancel_words"`
	Cancelled   string `yaml:"cancelled"`
	// Keep labels the choice to keep waiting; Kept answers it.
	Keep string `yaml:"keep"`
	Kept string `yaml:"kept"`
	// PlaceWords ask for the person's place in the queue.
	PlaceWords string `yaml:"place_words"`
	// Closed answers a request while counsellors are not at work.
	Closed string `yaml:"closed"`
	// Joined, Transferred and Ended say what a counsellor did.
	Joined      string `yaml:"joined"`
	Transferred string `yaml:"transferred"`
	Ended       string `yaml:"ended"`
	// With answers a tap on an old button while a counsellor holds the
	// chat.
	With string `yaml:"with"`
}

// Numbers are the numbers the emergency messages show for a country, each
// a variable of the messages: _emergency, _police, _ambulance, _victims,
// _children, _crisis. An empty number is not shown.
type Numbers struct {
	// Emergency is the one number for police, ambulance and fire (112).
	Emergency string `yaml:"emergency"`
	// Police and Ambulance are national numbers where 112 is not the
	// number people should call.
	Police    string `yaml:"police"`
	Ambulance string `yaml:"ambulance"`
	// Victims is the helpline for victims of crime (116 006).
	Victims string `yaml:"victims"`
	// Children is the helpline for children and young people (116 111).
	Children string `yaml:"children"`
	// Crisis is the organisation's own crisis line, where it has one.
	Crisis string `yaml:"crisis"`
}

// Replies are the message IDs the engine says without a flow asking.
type Replies struct {
	// Unsupported answers a photo, a voice note and the like.
	Unsupported string `yaml:"unsupported"`
	// Stale answers a tap on a button of an older message.
	Stale string `yaml:"stale"`
	// Problem answers when a flow is broken at run time.
	Problem string `yaml:"problem"`
	// LanguageName is each language's own name, for language choices.
	LanguageName string `yaml:"language_name"`
	// Yes and No list the words that answer a yes/no question.
	Yes string `yaml:"yes"`
	No  string `yaml:"no"`
	// Skip labels the choice every free-input question offers; Done the
	// one that ends a Many question.
	Skip string `yaml:"skip"`
	Done string `yaml:"done"`
	// GaveUp is said when a question's retries run out, before the flow
	// goes on: the person learns what happened and that nothing they said
	// is lost.
	GaveUp string `yaml:"gave_up"`
}

// Command is a global command. It is recognised when a whole message is one
// of its keywords or its slash form.
type Command struct {
	Line int    `yaml:"-"`
	Name string `yaml:"name"`
	// Slash forms, such as /start.
	Slash []string `yaml:"slash"`
	// Keywords is a message ID whose value lists keywords separated by |.
	Keywords string `yaml:"keywords"`
	// Say is a message said before anything else.
	Say string `yaml:"say"`
	// Goto replaces the conversation with a flow; Call runs a flow and then
	// returns to where the person was.
	Goto string `yaml:"goto"`
	Call string `yaml:"call"`
	// Erase forgets the person.
	Erase bool `yaml:"erase"`
	// Safety commands work even while a counsellor holds the conversation.
	Safety bool `yaml:"safety"`
}

// Link is what a deep link payload opens.
type Link struct {
	Line int    `yaml:"-"`
	Flow string `yaml:"flow"`
}

// Flow is one scripted conversation.
type Flow struct {
	ID    string           `yaml:"id"`
	Start string           `yaml:"start"`
	Nodes map[string]*Node `yaml:"nodes"`
	File  string           `yaml:"-"`
	Line  int              `yaml:"-"`
	// Notes names a variable that keeps, for the counsellor's card, what
	// the person typed that answered no question of the flow: a sentence
	// in the middle of an intake is something they wanted to say.
	Notes string `yaml:"notes"`
	// Order lists the node IDs as they stand in the file.
	Order []string `yaml:"-"`
}

// Node is one step of a flow. It first sets variables, then says its
// messages, then does one of: ask (with choices or free input), branch,
// call another flow, hand off, end, or go on to Next.
type Node struct {
	ID   string `yaml:"-"`
	Line int    `yaml:"-"`

	Set map[string]string `yaml:"set"`
	Add map[string]int    `yaml:"add"`
	Tag string            `yaml:"tag"`
	Say []Text            `yaml:"say"`

	// Ask is the question; Choices or Input says how it is answered.
	Ask     Text      `yaml:"ask"`
	Choices []*Option `yaml:"choices"`
	// Languages offers the shipped languages as choices and switches to
	// the one chosen.
	Languages bool   `yaml:"languages"`
	Input     *Input `yaml:"input"`
	// Many makes the choices a list to pick several from: each pick adds
	// the choice's value to the variable Many names (space-separated) or
	// takes it away, the question is asked again with the picks marked,
	// and the reply "done" (Replies.Done) goes on. Typed, "1 3 5" picks
	// three at once.
	Many string `yaml:"many"`
	// Retry is said after an answer that does not fit, Retries times at
	// most (default 2); then the flow goes on to Fail (default: the menu).
	Retry   string `yaml:"retry"`
	Retries int    `yaml:"retries"`
	Fail    string `yaml:"fail"`

	Branch  []*Case  `yaml:"branch"`
	Call    string   `yaml:"call"`
	Handoff *Handoff `yaml:"handoff"`
	End     bool     `yaml:"end"`
	// Erase forgets the person, as the erase command does.
	Erase bool `yaml:"erase"`
	// Next is a node of this flow, or @flow for the start of another flow.
	Next string `yaml:"next"`
}

// Text names a message and, for plural messages, the variable that counts.
// In YAML it is a message ID, or {msg: ID, count: variable}.
type Text struct {
	Line  int    `yaml:"-"`
	Msg   string `yaml:"msg"`
	Count string `yaml:"count"`
}

// Option is one choice of a question.
type Option struct {
	Line  int    `yaml:"-"`
	Label string `yaml:"label"`
	// Risk names a risk the answer shows (documents, debt): the
	// counsellor's card lists it. Alert names one that means danger now
	// (unsafe, not_free): it is listed too, makes an open case urgent at
	// once, and a case asked for later starts urgent. Either makes a case
	// of a person under 18 urgent.
	Risk  string            `yaml:"risk"`
	Alert string            `yaml:"alert"`
	Set   map[string]string `yaml:"set"`
	Add   map[string]int    `yaml:"add"`
	Next  string            `yaml:"next"`
	// Value is what a pick adds to the list of a Many question.
	Value string `yaml:"value"`
}

// Input validates a free answer and keeps it in Var.
type Input struct {
	// Type is text, number, yesno or country.
	Type string   `yaml:"type"`
	Var  string   `yaml:"var"`
	Min  *float64 `yaml:"min"`
	Max  *float64 `yaml:"max"`
}

// Case is one arm of a branch: the first whose condition holds is taken; a
// case without a condition always holds.
type Case struct {
	Line int    `yaml:"-"`
	If   *Cond  `yaml:"if"`
	Next string `yaml:"next"`
}

// Cond compares one variable. Exactly one comparison is set. Numbers compare
// as numbers; a variable that is not set is the empty string, or 0.
type Cond struct {
	Var string   `yaml:"var"`
	Eq  *string  `yaml:"eq"`
	Ne  *string  `yaml:"ne"`
	In  []string `yaml:"in"`
	Gt  *float64 `yaml:"gt"`
	Gte *float64 `yaml:"gte"`
	Lt  *float64 `yaml:"lt"`
	Lte *float64 `yaml:"lte"`
	// IsSet holds when the variable is set (true) or not (false).
	IsSet *bool `yaml:"set"`
	// Open holds when counsellors are at work (true) or not (false), by
	// the opening hours (Options.Open); it takes no variable. A flow asks
	// it before questions that only a counsellor would read.
	Open *bool `yaml:"open"`
	// Waiting holds when the person's request already waits for a
	// counsellor (true) or not (false); it takes no variable. An alarm
	// raised during the intake asks for a counsellor before the intake
	// ends (commands.yaml, alarms).
	Waiting *bool `yaml:"waiting"`
}

// Facts are what a condition may ask besides the variables.
type Facts struct {
	Open    bool // counsellors are at work, by the opening hours
	Waiting bool // the person's request waits for a counsellor
}

// Handoff asks for a counsellor.
type Handoff struct {
	Priority string `yaml:"priority"`
	Topic    string `yaml:"topic"`
}

// UnmarshalYAML keeps the node's line for error messages.
func (n *Node) UnmarshalYAML(v *yaml.Node) error {
	type plain Node
	if err := decodeKnown(v, (*plain)(n)); err != nil {
		return err
	}
	n.Line = v.Line
	return nil
}

// UnmarshalYAML keeps the option's line for error messages.
func (o *Option) UnmarshalYAML(v *yaml.Node) error {
	type plain Option
	if err := decodeKnown(v, (*plain)(o)); err != nil {
		return err
	}
	o.Line = v.Line
	return nil
}

// UnmarshalYAML keeps the case's line for error messages.
func (c *Case) UnmarshalYAML(v *yaml.Node) error {
	type plain Case
	if err := decodeKnown(v, (*plain)(c)); err != nil {
		return err
	}
	c.Line = v.Line
	return nil
}

// UnmarshalYAML keeps the command's line for error messages.
func (c *Command) UnmarshalYAML(v *yaml.Node) error {
	type plain Command
	if err := decodeKnown(v, (*plain)(c)); err != nil {
		return err
	}
	c.Line = v.Line
	return nil
}

// UnmarshalYAML keeps the alarm's line for error messages.
func (a *Alarm) UnmarshalYAML(v *yaml.Node) error {
	type plain Alarm
	if err := decodeKnown(v, (*plain)(a)); err != nil {
		return err
	}
	a.Line = v.Line
	return nil
}

// UnmarshalYAML keeps the section's line for error messages.
func (a *Alarms) UnmarshalYAML(v *yaml.Node) error {
	type plain Alarms
	if err := decodeKnown(v, (*plain)(a)); err != nil {
		return err
	}
	a.Line = v.Line
	return nil
}

// UnmarshalYAML keeps the section's line for error messages.
func (c *CaseReplies) UnmarshalYAML(v *yaml.Node) error {
	type plain CaseReplies
	if err := decodeKnown(v, (*plain)(c)); err != nil {
		return err
	}
	c.Line = v.Line
	return nil
}

// UnmarshalYAML keeps the link's line for error messages.
func (l *Link) UnmarshalYAML(v *yaml.Node) error {
	type plain Link
	if err := decodeKnown(v, (*plain)(l)); err != nil {
		return err
	}
	l.Line = v.Line
	return nil
}

// UnmarshalYAML reads a message ID or {msg, count}.
func (t *Text) UnmarshalYAML(v *yaml.Node) error {
	t.Line = v.Line
	if v.Kind == yaml.ScalarNode {
		return v.Decode(&t.Msg)
	}
	type plain Text
	if err := decodeKnown(v, (*plain)(t)); err != nil {
		return err
	}
	t.Line = v.Line
	return nil
}

// decodeKnown decodes v into out, refusing keys that out has no field for:
// yaml.v3's KnownFields does not reach into custom unmarshalers, and a
// misspelt key ("sya:") must be an error, not a silently ignored line.
func decodeKnown(v *yaml.Node, out any) error {
	if v.Kind == yaml.MappingNode {
		t := reflect.TypeOf(out).Elem()
		for i := 0; i+1 < len(v.Content); i += 2 {
			k := v.Content[i]
			if !hasYAMLField(t, k.Value) {
				return fmt.Errorf("line %d: unknown key %q", k.Line, k.Value)
			}
		}
	}
	return v.Decode(out)
}

func hasYAMLField(t reflect.Type, key string) bool {
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == key && name != "-" {
			return true
		}
	}
	return false
}

// num reads a variable as a number; anything else is 0.
func num(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return f
}

// Holds evaluates c against vars and the facts. A number comparison with a
// variable that holds no number is false: an age the person skipped is not
// under 18.
func (c *Cond) Holds(vars map[string]string, f Facts) bool {
	switch {
	case c.Open != nil:
		return f.Open == *c.Open
	case c.Waiting != nil:
		return f.Waiting == *c.Waiting
	}
	v, set := vars[c.Var]
	if c.Gt != nil || c.Gte != nil || c.Lt != nil || c.Lte != nil {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return false
		}
	}
	switch {
	case c.Eq != nil:
		return v == *c.Eq
	case c.Ne != nil:
		return v != *c.Ne
	case c.In != nil:
		for _, x := range c.In {
			if v == x {
				return true
			}
		}
		return false
	case c.Gt != nil:
		return num(v) > *c.Gt
	case c.Gte != nil:
		return num(v) >= *c.Gte
	case c.Lt != nil:
		return num(v) < *c.Lt
	case c.Lte != nil:
		return num(v) <= *c.Lte
	case c.IsSet != nil:
		return set == *c.IsSet
	}
	return false
}

// ops counts the comparisons c sets; a valid condition has exactly one.
func (c *Cond) ops() int {
	n := 0
	for _, set := range []bool{c.Eq != nil, c.Ne != nil, c.In != nil, c.Gt != nil, c.Gte != nil, c.Lt != nil, c.Lte != nil, c.IsSet != nil, c.Open != nil, c.Waiting != nil} {
		if set {
			n++
		}
	}
	return n
}

// Error is a problem in a flow file, with its place.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// MessageIDs lists every message the set says: the flows' messages and
// questions, and what the engine says on its own.
func (s *Set) MessageIDs() []string {
	g := &s.Global
	ids := []string{g.Replies.Unsupported, g.Replies.Stale, g.Replies.Problem, g.Replies.GaveUp, g.Alarms.Raised,
		g.Cases.Noted, g.Cases.Cancelled, g.Cases.Kept, g.Cases.Closed, g.Cases.Joined,
		g.Cases.Transferred, g.Cases.Ended, g.Cases.With}
	for _, a := range []*Alarm{g.Alarms.Danger, g.Alarms.SelfHarm} {
		if a != nil {
			ids = append(ids, a.Say)
		}
	}
	for _, c := range g.Commands {
		ids = append(ids, c.Say)
	}
	for _, f := range s.Flows {
		for _, n := range f.Nodes {
			ids = append(ids, n.Ask.Msg, n.Retry)
			for _, t := range n.Say {
				ids = append(ids, t.Msg)
			}
		}
	}
	slices.Sort(ids)
	return slices.DeleteFunc(slices.Compact(ids), func(id string) bool { return id == "" })
}
