package flow

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/helpline/helpline/bot"
)

// maxHops bounds the nodes one step may pass through, so that a loop in a
// flow cannot hang the host.
const maxHops = 100

// maxInput is the longest free answer kept, in characters.
const maxInput = 500

// defaultRetries is how many invalid answers a question takes before the
// flow moves on.
const defaultRetries = 2

// Step runs one message through the conversation. It takes ownership of s
// and returns the new session, the replies to send and the effects the host
// must carry out. It is deterministic: the same session, message and time
// give the same result.
func (e *Engine) Step(s bot.Session, in bot.Inbound, now time.Time) (bot.Session, []bot.Reply, []bot.Effect) {
	st := stepper{e: e, s: &s}
	st.step(in, now)
	st.forgetIntake()
	s.Last = now.Unix()
	return s, st.replies(), st.effects
}

type stepper struct {
	e       *Engine
	s       *bot.Session
	in      *bot.Inbound
	now     time.Time
	texts   []string
	shorts  []string
	short   bool // some text has an SMS variant
	choices []bot.Choice
	effects []bot.Effect
	// place is the asked question's place in its series, if any.
	place place
	// from is who speaks in this step's reply.
	from bot.Speaker
}

func (st *stepper) step(in bot.Inbound, now time.Time) {
	st.in, st.now = &in, now
	if in.Event != bot.Message {
		st.caseEvent(in)
		return
	}
	s := st.s
	first := s.Lang == ""
	hinted := false
	if first {
		s.Lang, hinted = st.e.msgs.Match(in.LangHints...)
	}
	norm := ""
	if in.Text != "" {
		norm = Normalize(in.Text)
	}
	if a := st.e.opts.Detector.Detect(in.Text); a.Raised() {
		if first && !hinted && slices.Contains(st.e.langs, a.Lang) {
			// No hint said which language: the words themselves do.
			s.Lang = a.Lang
		}
		st.alarm(a, norm)
		return
	}
	switch s.Case.State {
	case bot.Held:
		st.held(norm)
		return
	case bot.Waiting:
		if st.waiting(norm) {
			return
		}
	}
	if in.Start != "" && st.link(in.Start) {
		return
	}
	if in.Unsupported {
		st.say(bot.Frame{}, Text{Msg: st.e.set.Global.Replies.Unsupported})
		if s.Case.State == bot.Waiting && len(s.Stack) == 0 {
			return // passed on to the case; no need to start anew
		}
		st.resume(first)
		return
	}
	if cmd := st.e.command(in.Text, norm); cmd != nil {
		st.command(cmd)
		return
	}
	switch {
	case first:
		st.welcome()
	case len(s.Stack) == 0 && s.Case.State == bot.Waiting:
		st.noted()
	case len(s.Stack) == 0 || now.Unix()-s.Last > int64(st.e.opts.Pause/time.Second):
		s.Retries = 0
		st.goTo(st.e.set.Global.Menu)
	default:
		st.answer(norm, true)
	}
}

// alarm answers danger or self-harm, whatever the person was doing: the
// guidance at once, then, for a person with no counsellor yet, the offer
// of an urgent one, or, for one already on the way to a counsellor, the
// urgent request at once. Self-harm has its own answer, also when the
// message shows danger too. A waiting or held person's case learns why.
func (st *stepper) alarm(a bot.Alarm, norm string) {
	s, g := st.s, &st.e.set.Global.Alarms
	ans, count := g.Danger, "danger"
	if a.SelfHarm != "" {
		ans, count = g.SelfHarm, "selfharm"
	}
	for _, rule := range []string{a.SelfHarm, a.Danger} {
		if rule != "" {
			st.effects = append(st.effects, bot.Effect{Kind: bot.Alert, Name: rule})
		}
	}
	st.effects = append(st.effects, bot.Effect{Kind: bot.Count, Name: count})
	st.setVar("_alarm", count)
	if s.Case.State != bot.NoCase {
		st.relay()
	}
	st.say(bot.Frame{}, Text{Msg: ans.Say})
	switch s.Case.State {
	case bot.Waiting:
		st.say(bot.Frame{}, Text{Msg: g.Raised})
		if len(s.Stack) > 0 {
			st.run()
		}
	case bot.NoCase:
		if st.onTheWay() {
			// Answering the intake: they asked for a counsellor already.
			// The request goes now, urgent, with what they wrote (the
			// answer to a question that takes words, else a note) and what
			// they answered so far. Then the intake goes on where it was,
			// and what they answer still reaches the card.
			st.keepWords(norm)
			s.Stack = append(s.Stack, bot.Frame{Flow: ans.Call, Node: ans.Urgent})
			st.run()
			return
		}
		if len(s.Stack) == 0 {
			// At rest: when the offer is answered the person lands on
			// the menu, not on nothing.
			menu := st.e.set.Global.Menu
			s.Stack = append(s.Stack, bot.Frame{Flow: menu, Node: st.e.set.Flows[menu].Start})
		}
		st.call(ans.Call)
	}
}

// onTheWay reports whether the flows under the current question go on to a
// counsellor once it is answered, asking nothing more: the intake, called
// by the flow that hands the person off after it.
func (st *stepper) onTheWay() bool {
	stack := st.s.Stack
	for i := len(stack) - 2; i >= 0; i-- {
		if st.e.toCounsellor[stack[i].Flow+"/"+stack[i].Node] {
			return true
		}
	}
	return false
}

// keepWords keeps a message that raised an alarm for the counsellor: as
// the answer of a question that takes words, or else as a note of the
// flow, whatever its length (it is no mistyped answer).
func (st *stepper) keepWords(norm string) {
	s := st.s
	top := s.Stack[len(s.Stack)-1]
	f := st.e.set.Flows[top.Flow]
	if f == nil {
		return
	}
	if n := f.Nodes[top.Node]; n != nil && n.Input != nil && n.Input.Type == "text" {
		if next, ok := st.input(f, n, st.in.Text, norm); ok {
			s.Retries = 0
			st.jump(next)
			return
		}
	}
	st.addNote(f)
}

// held takes a message while a counsellor holds the case: it goes to the
// counsellor, and the bot says nothing, except to the safety commands
// (which the counsellor hears of) and to a tap on an old button.
func (st *stepper) held(norm string) {
	in := st.in
	cmd := st.e.command(in.Text, norm)
	switch {
	case in.Unsupported:
		st.effects = append(st.effects, bot.Effect{Kind: bot.Relay, Name: "unsupported"})
	case cmd != nil && cmd.Safety:
		st.effects = append(st.effects, bot.Effect{Kind: bot.Relay, Name: cmd.Name})
		st.command(cmd)
	case in.Choice != "" && len(st.s.Stack) > 0 && st.asked(in.Choice):
		// The answer to a safety command's question (the language).
		st.answer(norm, true)
	case in.Choice != "":
		st.say(bot.Frame{}, Text{Msg: st.e.set.Global.Cases.With})
	default:
		st.relay()
		if len(st.s.Stack) > 0 {
			st.answer(norm, false)
		}
	}
}

// waiting takes what only a waiting person's message means: cancel, keep
// waiting, where am I. It reports whether it took the message; if not, the
// message goes on as any other, and what the person writes is passed on to
// the case as well.
func (st *stepper) waiting(norm string) bool {
	in, s, g := st.in, st.s, &st.e.set.Global.Cases
	switch {
	case in.Choice == CancelChoice || (norm != "" && st.e.cancel[norm]):
		s.Case = bot.OpenCase{}
		st.effects = append(st.effects, bot.Effect{Kind: bot.Cancel})
		st.say(bot.Frame{}, Text{Msg: g.Cancelled})
		st.goTo(st.e.set.Global.Menu)
		return true
	case in.Choice == KeepChoice:
		st.say(bot.Frame{}, Text{Msg: g.Kept})
		return true
	case norm != "" && st.e.place[norm]:
		st.effects = append(st.effects, bot.Effect{Kind: bot.Place})
		return true
	}
	if cmd := st.e.command(in.Text, norm); cmd != nil {
		if st.e.handsOff[cmd.Goto] || st.e.handsOff[cmd.Call] {
			// Already waiting: the place in the queue answers.
			st.effects = append(st.effects, bot.Effect{Kind: bot.Place})
			return true
		}
		return false // a command: not words for the counsellor
	}
	if in.Text != "" || in.Unsupported {
		st.relay()
	}
	return false
}

// relay passes what the person sent on to their case.
func (st *stepper) relay() {
	if st.in.Unsupported {
		st.effects = append(st.effects, bot.Effect{Kind: bot.Relay, Name: "unsupported"})
		return
	}
	if st.in.Text != "" {
		st.effects = append(st.effects, bot.Effect{Kind: bot.Relay, Text: st.in.Text})
	}
}

// noted tells a waiting person, once, that what they write is passed on.
func (st *stepper) noted() {
	if st.s.Vars["_noted"] != "" {
		return
	}
	st.setVar("_noted", "1")
	st.say(bot.Frame{}, Text{Msg: st.e.set.Global.Cases.Noted})
}

// caseEvent tells the person what a counsellor did.
func (st *stepper) caseEvent(in bot.Inbound) {
	s, g := st.s, &st.e.set.Global.Cases
	switch in.Event {
	case bot.Claimed:
		s.Case.State = bot.Held
		st.say(bot.Frame{}, Text{Msg: g.Joined})
	case bot.CounsellorSaid:
		s.Case.State = bot.Held
		st.from = bot.SpeakerCounsellor
		st.texts = append(st.texts, in.Text)
		st.shorts = append(st.shorts, in.Text)
	case bot.Requeued, bot.Transferred:
		s.Case.State = bot.Waiting
		if in.Event == bot.Transferred {
			s.Case.State = bot.Held
		}
		st.say(bot.Frame{}, Text{Msg: g.Transferred})
	case bot.Ended:
		s.Case = bot.OpenCase{}
		delete(s.Vars, "_noted")
		st.say(bot.Frame{}, Text{Msg: g.Ended})
		st.goTo(st.e.set.Global.Menu)
	}
}

// asked reports whether a tapped choice answers the question the person is
// at.
func (st *stepper) asked(choice string) bool {
	top := st.s.Stack[len(st.s.Stack)-1]
	return strings.HasPrefix(choice, top.Flow+"/"+top.Node+"/")
}

// The choices a waiting person is offered besides the flows' own.
const (
	CancelChoice = "case/cancel"
	KeepChoice   = "case/keep"
)

// forgetIntake drops what the person answered once it is on the case's
// card and no flow needs it any more: a session is kept for weeks, a card
// only as long as its case. The country stays, for the numbers to show; so
// do the engine's own variables (the risks, the alarm).
func (st *stepper) forgetIntake() {
	s := st.s
	if s.Case.State == bot.NoCase || len(s.Stack) > 0 {
		return
	}
	for k := range s.Vars {
		if k != "country" && !strings.HasPrefix(k, "_") {
			delete(s.Vars, k)
		}
	}
}

// resume asks the current question again, or starts a new conversation.
func (st *stepper) resume(first bool) {
	if first || len(st.s.Stack) == 0 {
		st.goTo(st.e.set.Global.Welcome)
		return
	}
	st.run()
}

// link follows a deep link: it counts the campaign, without any link to the
// person, and opens its flow. It reports whether it opened one.
func (st *stepper) link(payload string) bool {
	l := st.e.set.Global.Links[payload]
	if l == nil {
		st.effects = append(st.effects, bot.Effect{Kind: bot.Count, Name: "campaign.unknown"})
		return false
	}
	st.effects = append(st.effects, bot.Effect{Kind: bot.Count, Name: "campaign." + payload})
	st.goTo(l.Flow)
	return true
}

// command returns the command a whole message names, if any.
func (e *Engine) command(text, norm string) *Command {
	if strings.HasPrefix(text, "/") {
		word, _, _ := strings.Cut(text, " ")
		word, _, _ = strings.Cut(word, "@") // /start@helpline_bot
		if cmd := e.slash[strings.ToLower(word)]; cmd != nil {
			return cmd
		}
	}
	if norm == "" {
		return nil
	}
	return e.keywords[norm]
}

func (st *stepper) command(cmd *Command) {
	if cmd.Say != "" {
		st.say(bot.Frame{}, Text{Msg: cmd.Say})
	}
	switch {
	case cmd.Erase:
		st.erase()
	case cmd.Goto != "":
		st.goTo(cmd.Goto)
	case cmd.Call != "" && st.languageArg(cmd.Call):
	case cmd.Call != "":
		st.call(cmd.Call)
	}
}

// erase forgets the person: the host deletes everything, the session keeps
// only the language for the last reply.
func (st *stepper) erase() {
	st.effects = append(st.effects, bot.Effect{Kind: bot.Erase})
	*st.s = bot.Session{Lang: st.s.Lang}
}

func (st *stepper) setVar(k, v string) {
	if st.s.Vars == nil {
		st.s.Vars = make(map[string]string, 4)
	}
	st.s.Vars[k] = v
}

// goTo replaces the conversation with flow id and runs it.
func (st *stepper) goTo(id string) {
	st.s.Stack = append(st.s.Stack[:0], bot.Frame{Flow: id, Node: st.e.set.Flows[id].Start})
	st.s.Retries = 0
	st.run()
}

// call runs flow id on top of the current one, which resumes at its current
// node when it ends.
func (st *stepper) call(id string) {
	st.s.Stack = append(st.s.Stack, bot.Frame{Flow: id, Node: st.e.set.Flows[id].Start})
	st.s.Retries = 0
	st.run()
}

// jump moves the innermost flow to target: a node, @flow, or "" to end it.
func (st *stepper) jump(target string) {
	s := st.s
	top := &s.Stack[len(s.Stack)-1]
	switch {
	case target == "":
		s.Stack = s.Stack[:len(s.Stack)-1]
	case target[0] == '@':
		id := target[1:]
		*top = bot.Frame{Flow: id, Node: st.e.set.Flows[id].Start}
	default:
		top.Node = target
	}
}

// run executes nodes from the innermost frame until a question waits for an
// answer or the conversation rests.
func (st *stepper) run() {
	s := st.s
	for hops := 0; len(s.Stack) > 0; hops++ {
		top := &s.Stack[len(s.Stack)-1]
		if top.Node == "" { // a call that ends its caller on return
			s.Stack = s.Stack[:len(s.Stack)-1]
			continue
		}
		f := st.e.set.Flows[top.Flow]
		var n *Node
		if f != nil {
			n = f.Nodes[top.Node]
		}
		if n == nil || hops > maxHops {
			st.problem("flow.broken")
			s.Stack = s.Stack[:0]
			return
		}
		frame := *top
		st.apply(n.Set, n.Add)
		if n.Tag != "" {
			st.effects = append(st.effects, bot.Effect{Kind: bot.Count, Name: n.Tag})
		}
		for _, t := range n.Say {
			st.say(frame, t)
		}
		if n.Handoff != nil && !st.handoff(n.Handoff) {
			return
		}
		if n.Erase {
			st.erase()
			return
		}
		switch {
		case n.Ask.Msg != "":
			st.ask(f, n)
			return
		case len(n.Branch) > 0:
			st.jump(branch(n, s.Vars, Facts{Open: st.open(), Waiting: s.Case.State == bot.Waiting}))
		case n.Call != "":
			top.Node = n.Next
			s.Stack = append(s.Stack, bot.Frame{Flow: n.Call, Node: st.e.set.Flows[n.Call].Start})
		case n.End:
			st.jump("")
		default:
			st.jump(n.Next)
		}
	}
}

// branch returns the target of the first case that holds, or the node's Next.
func branch(n *Node, vars map[string]string, f Facts) string {
	for _, c := range n.Branch {
		if c.If == nil || c.If.Holds(vars, f) {
			return c.Next
		}
	}
	return n.Next
}

func (st *stepper) apply(set map[string]string, add map[string]int) {
	for k, v := range set {
		st.setVar(k, v)
	}
	for k, d := range add {
		st.setVar(k, strconv.Itoa(int(num(st.s.Vars[k]))+d))
	}
}

// open reports whether counsellors are at work now, by the opening hours;
// always without them.
func (st *stepper) open() bool {
	return st.e.opts.Open == nil || st.e.opts.Open(st.now)
}

// handoff asks for a counsellor: the case waits from now on. The priority
// is the node's, raised to urgent by an alarm or an alerting answer, and by
// any risk of a person under 18. While counsellors are not at work the
// person hears so and goes back to the menu; handoff reports false then,
// and the flow stops.
func (st *stepper) handoff(h *Handoff) bool {
	s := st.s
	if s.Case.State != bot.NoCase {
		// Asked again while a case is open: the case learns the new card.
		st.effects = append(st.effects, st.handoffEffect(h))
		return true
	}
	if !st.open() {
		st.effects = append(st.effects, bot.Effect{Kind: bot.Count, Name: "case.closed"})
		st.say(bot.Frame{}, Text{Msg: st.e.set.Global.Cases.Closed})
		st.goTo(st.e.set.Global.Menu)
		return false
	}
	s.Case = bot.OpenCase{State: bot.Waiting}
	delete(s.Vars, "_noted")
	st.effects = append(st.effects, st.handoffEffect(h))
	return true
}

func (st *stepper) handoffEffect(h *Handoff) bot.Effect {
	vars := st.s.Vars
	p, _ := bot.ParsePriority(h.Priority)
	card := make(map[string]string, len(vars))
	for k, v := range vars {
		if !strings.HasPrefix(k, "_") {
			card[k] = v
		}
	}
	flags := strings.Fields(vars["_risks"])
	if a := vars["_alarm"]; a != "" && !slices.Contains(flags, a) {
		flags = append(flags, a)
	}
	if age, err := strconv.ParseFloat(vars["age"], 64); err == nil && age < 18 {
		flags = append(flags, "minor")
		if len(flags) > 1 || h.Topic == "danger" {
			p = bot.Urgent
		}
	}
	if vars["_alert"] != "" || vars["_alarm"] != "" {
		p = bot.Urgent
	}
	return bot.Effect{Kind: bot.Handoff, Priority: p, Topic: h.Topic, Card: card, Flags: flags}
}

// risk records what an answer showed: a risk for the card, and for an
// alerting answer the alarm, which an open case hears at once.
func (st *stepper) risk(o *Option) {
	flag := cmp.Or(o.Alert, o.Risk)
	if flag == "" {
		return
	}
	risks := strings.Fields(st.s.Vars["_risks"])
	if !slices.Contains(risks, flag) {
		st.setVar("_risks", strings.Join(append(risks, flag), " "))
	}
	if o.Alert != "" {
		st.setVar("_alert", "1")
		st.effects = append(st.effects, bot.Effect{Kind: bot.Alert, Name: "answer." + o.Alert})
	}
}

// ask says the question of n and offers its choices.
func (st *stepper) ask(f *Flow, n *Node) {
	frame := bot.Frame{Flow: f.ID, Node: n.ID}
	st.say(frame, n.Ask)
	st.place = st.e.series[f.ID+"/"+n.ID]
	lang := st.s.Lang
	if n.Languages {
		// The current language first: it is the one the hint chose.
		st.langChoice(frame, lang)
		for _, l := range st.e.langs {
			if l != lang {
				st.langChoice(frame, l)
			}
		}
		return
	}
	var picked []string
	if n.Many != "" {
		picked = strings.Fields(st.s.Vars[n.Many])
	}
	for i, o := range n.Choices {
		label, _ := st.e.msgs.Text(lang, o.Label, st.s.Vars, nil)
		if n.Many != "" && slices.Contains(picked, o.Value) {
			label = "✓ " + label
		}
		st.choices = append(st.choices, bot.Choice{ID: ChoiceID(f.ID, n.ID, strconv.Itoa(i)), Label: label, Kind: st.e.kinds[o]})
	}
	r := st.e.set.Global.Replies
	switch {
	case n.Many != "":
		label, _ := st.e.msgs.Text(lang, r.Done, nil, nil)
		st.choices = append(st.choices, bot.Choice{ID: ChoiceID(f.ID, n.ID, "done"), Label: label})
	case n.Input != nil && r.Skip != "":
		label, _ := st.e.msgs.Text(lang, r.Skip, nil, nil)
		st.choices = append(st.choices, bot.Choice{ID: ChoiceID(f.ID, n.ID, "skip"), Label: label})
	}
}

func (st *stepper) langChoice(frame bot.Frame, l string) {
	name, _ := st.e.msgs.Text(l, st.e.set.Global.Replies.LanguageName, nil, nil)
	st.choices = append(st.choices, bot.Choice{ID: ChoiceID(frame.Flow, frame.Node, l), Label: name})
}

// ChoiceID is the ID of a choice: it names the question it answers, so a
// tap on an older message's button is recognised as such.
func ChoiceID(flow, node, key string) string { return flow + "/" + node + "/" + key }

// say renders one message in the person's language. A message may have a
// variant for the person's channel, its ID followed by the channel's name
// (welcome.not_safe.telegram, welcome.not_safe.web): what a person can do
// differs between an app and a browser tab.
func (st *stepper) say(frame bot.Frame, t Text) {
	if t.Msg == "" {
		return
	}
	lang := st.s.Lang
	if ch := st.in.Channel; channelVariants[ch] {
		if id := t.Msg + "." + string(ch); st.e.msgs.Has(lang, id) {
			t.Msg = id
		}
	}
	var count *int
	if t.Count != "" {
		c := int(num(st.s.Vars[t.Count]))
		count = &c
	}
	vars := st.s.Vars
	if st.e.numbered[t.Msg] {
		cc := cmp.Or(vars["country"], st.in.Country)
		vars = st.e.numbers(strings.ToUpper(cc)).vars(vars)
	}
	text, ok := st.e.msgs.Text(lang, t.Msg, vars, count)
	if !ok {
		st.problem("message.missing")
	}
	short := text
	if id := t.Msg + ".sms"; st.e.msgs.Has(lang, id) {
		short, _ = st.e.msgs.Text(lang, id, vars, count)
		st.short = true
	}
	st.texts = append(st.texts, text)
	st.shorts = append(st.shorts, short)
}

// channelVariants are the channels a message may have its own variant
// for. SMS has its shorter variant instead (.sms), which WhatsApp does not
// use.
var channelVariants = map[bot.Channel]bool{bot.Web: true, bot.Telegram: true, bot.WhatsApp: true}

func (st *stepper) problem(name string) {
	st.effects = append(st.effects, bot.Effect{Kind: bot.Problem, Name: name})
}

// replies joins what the step said into one reply, so that a person gets one
// message per message they send.
func (st *stepper) replies() []bot.Reply {
	if len(st.texts) == 0 && len(st.choices) == 0 {
		return nil
	}
	r := bot.Reply{
		Text: strings.Join(st.texts, "\n\n"), Choices: st.choices,
		Lang: st.s.Lang, From: st.from, Case: st.s.Case.State, Step: st.place.n, Steps: st.place.total,
	}
	if st.short {
		r.Short = strings.Join(st.shorts, "\n\n")
	}
	return []bot.Reply{r}
}

// answer takes the person's answer to the question they are at. With
// retry false an answer that does not fit changes nothing and says
// nothing: it was meant for the counsellor.
func (st *stepper) answer(norm string, retry bool) {
	s, in := st.s, st.in
	top := s.Stack[len(s.Stack)-1]
	f := st.e.set.Flows[top.Flow]
	n := f.Nodes[top.Node]
	if n == nil || n.Ask.Msg == "" {
		st.run()
		return
	}
	if in.Choice != "" {
		if !strings.HasPrefix(in.Choice, top.Flow+"/"+top.Node+"/") {
			st.say(bot.Frame{}, Text{Msg: st.e.set.Global.Replies.Stale})
			st.ask(f, n)
			return
		}
		norm = in.Choice[len(top.Flow)+len(top.Node)+2:]
		if !n.Languages {
			if i, err := strconv.Atoi(norm); err == nil {
				norm = strconv.Itoa(i + 1)
			}
		}
	}
	var next string
	var ok bool
	switch {
	case n.Languages:
		next, ok = st.pickLanguage(n, norm)
	case n.Input != nil:
		next, ok = st.input(f, n, in.Text, norm)
	case n.Many != "":
		var done bool
		if done, ok = st.pickMany(n, norm); ok && !done {
			s.Retries = 0
			st.ask(f, n) // again, with the picks marked
			return
		}
		next = n.Next
	default:
		next, ok = st.pickOption(n, norm)
	}
	if !ok {
		if retry {
			st.note(f, norm)
			st.retry(f, n)
		}
		return
	}
	s.Retries = 0
	st.jump(next)
	st.run()
}

func (st *stepper) retry(f *Flow, n *Node) {
	s := st.s
	limit := n.Retries
	if limit == 0 {
		limit = defaultRetries
	}
	s.Retries++
	if int(s.Retries) > limit {
		s.Retries = 0
		st.effects = append(st.effects, bot.Effect{Kind: bot.Count, Name: "retry.limit"})
		st.say(bot.Frame{}, Text{Msg: st.e.set.Global.Replies.GaveUp})
		fail := n.Fail
		if fail == "" {
			fail = "@" + st.e.set.Global.Menu
		}
		st.jump(fail)
		st.run()
		return
	}
	if n.Retry != "" {
		st.say(bot.Frame{}, Text{Msg: n.Retry})
	}
	st.ask(f, n)
}

func (st *stepper) pickOption(n *Node, norm string) (string, bool) {
	i := st.e.matchOption(st.s.Lang, n.Choices, norm)
	if i < 0 {
		return "", false
	}
	o := n.Choices[i]
	st.apply(o.Set, o.Add)
	st.risk(o)
	if o.Next == "" {
		return n.Next, true
	}
	return o.Next, true
}

// matchOption finds the choice a typed answer means, without regard to
// case or diacritics. The answer must be the choice: its number, its label,
// a yes or no word for a choice whose label is one, a recognisable part of
// the label ("safe place" for "A safe place to stay"), or a sentence that
// holds a label of two words or more whole ("I need medical help"). A
// one-word label inside a longer sentence is not an answer: "no one lets
// me leave" is not "No". It returns -1 when no single choice fits.
func (e *Engine) matchOption(lang string, opts []*Option, norm string) int {
	if norm == "" {
		return -1
	}
	if k, err := strconv.Atoi(norm); err == nil {
		if k >= 1 && k <= len(opts) {
			return k - 1
		}
		return -1
	}
	labels := e.labels[lang]
	for i, o := range opts {
		if labels[o.Label] == norm {
			return i
		}
	}
	if w := e.words[lang]; w != nil {
		found := -1
		for i, o := range opts {
			l := labels[o.Label]
			if (w.yes[l] && w.yes[norm]) || (w.no[l] && w.no[norm]) {
				if found >= 0 {
					return -1
				}
				found = i
			}
		}
		if found >= 0 {
			return found
		}
	}
	if utf8.RuneCountInString(norm) < 3 {
		return -1
	}
	found := -1
	for i, o := range opts {
		l := labels[o.Label]
		if containsPhrase(l, norm) || (strings.Contains(l, " ") && containsPhrase(norm, l)) {
			if found >= 0 {
				return -1
			}
			found = i
		}
	}
	return found
}

// pickMany takes an answer to a Many question: a pick of one choice (tap,
// number, label), several numbers at once, or done. It reports whether the
// person is done, and whether the answer fitted at all.
func (st *stepper) pickMany(n *Node, norm string) (done, ok bool) {
	lang := st.s.Lang
	doneLabel := st.e.labels[lang][st.e.set.Global.Replies.Done]
	if norm == "done" || norm == doneLabel || norm == strconv.Itoa(len(n.Choices)+1) {
		return true, true
	}
	picks := strings.Fields(norm)
	var nums []int
	for _, p := range picks {
		k, err := strconv.Atoi(p)
		if err != nil || k < 1 || k > len(n.Choices)+1 {
			nums = nil
			break
		}
		nums = append(nums, k)
	}
	if len(picks) > 1 && nums != nil {
		for _, k := range nums {
			if k == len(n.Choices)+1 {
				done = true
				continue
			}
			st.toggle(n.Many, n.Choices[k-1].Value)
		}
		return done, true
	}
	i := st.e.matchOption(lang, n.Choices, norm)
	if i < 0 {
		return false, false
	}
	st.toggle(n.Many, n.Choices[i].Value)
	return false, true
}

// toggle adds value to the space-separated list in variable k, or takes it
// away if it is there.
func (st *stepper) toggle(k, value string) {
	list := strings.Fields(st.s.Vars[k])
	if i := slices.Index(list, value); i >= 0 {
		list = slices.Delete(list, i, i+1)
	} else {
		list = append(list, value)
	}
	if len(list) == 0 {
		delete(st.s.Vars, k)
		return
	}
	st.setVar(k, strings.Join(list, " "))
}

// note keeps a sentence that answered no question, in a flow whose card
// takes such notes: three words or more are something the person wanted
// to say, not a mistyped answer.
func (st *stepper) note(f *Flow, norm string) {
	if len(strings.Fields(norm)) >= 3 {
		st.addNote(f)
	}
}

// addNote adds the message to the notes of flow f, if it takes notes.
func (st *stepper) addNote(f *Flow) {
	if f.Notes == "" || st.in.Text == "" {
		return
	}
	text := strings.TrimSpace(st.in.Text)
	if old := st.s.Vars[f.Notes]; old != "" {
		text = old + " / " + text
	}
	if utf8.RuneCountInString(text) > maxInput {
		text = string([]rune(text)[:maxInput])
	}
	st.setVar(f.Notes, text)
}

func (st *stepper) pickLanguage(n *Node, norm string) (string, bool) {
	choose := func(l string) (string, bool) {
		st.s.Lang = l
		return n.Next, true
	}
	if k, err := strconv.Atoi(norm); err == nil {
		// Numbered as offered: the current language first.
		order := append([]string{st.s.Lang}, st.e.langs...)
		order = dedupe(order)
		if k >= 1 && k <= len(order) {
			return choose(order[k-1])
		}
		return "", false
	}
	for _, l := range st.e.langs {
		name, _ := st.e.msgs.Text(l, st.e.set.Global.Replies.LanguageName, nil, nil)
		if norm == l || norm == Normalize(name) {
			return choose(l)
		}
	}
	return "", false
}

func dedupe(ss []string) []string {
	out := ss[:0]
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// input validates a free answer and keeps it. Skip, tapped or typed, goes
// on and keeps nothing.
func (st *stepper) input(f *Flow, n *Node, raw, norm string) (string, bool) {
	in := n.Input
	skip := st.e.labels[st.s.Lang][st.e.set.Global.Replies.Skip]
	if norm == "skip" && st.in.Choice != "" || (skip != "" && norm == skip) {
		return n.Next, true
	}
	var v string
	switch in.Type {
	case "text":
		v = strings.TrimSpace(raw)
		if v == "" {
			return "", false
		}
		if old := st.s.Vars[in.Var]; old != "" && in.Var == f.Notes {
			v = old + " / " + v // what the person said along the way comes first
		}
		if utf8.RuneCountInString(v) > maxInput {
			v = string([]rune(v)[:maxInput])
		}
	case "number":
		f, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(raw), ",", "."), 64)
		if err != nil || (in.Min != nil && f < *in.Min) || (in.Max != nil && f > *in.Max) {
			return "", false
		}
		v = strconv.FormatFloat(f, 'f', -1, 64)
	case "yesno":
		switch {
		case st.e.yes[norm]:
			v = "yes"
		case st.e.no[norm]:
			v = "no"
		default:
			return "", false
		}
	case "country":
		v = st.e.country(norm)
		if v == "" {
			return "", false
		}
	}
	st.setVar(in.Var, v)
	return n.Next, true
}
