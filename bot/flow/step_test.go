package flow_test

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/flow/flowtest"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/bot/safety"
	"github.com/helpline/helpline/locales"
)

// mini builds an engine over the small content in testdata/mini, which
// exercises every node kind in two languages.
func mini(t testing.TB) *flow.Engine {
	t.Helper()
	return miniWith(t, nil)
}

// miniWith is mini with the safety net passed through wrap, when not nil.
func miniWith(t testing.TB, wrap func(flow.Detector) flow.Detector) *flow.Engine {
	t.Helper()
	set, err := flow.Load(os.DirFS("testdata/mini/flows"))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := lang.Load(os.DirFS("testdata/mini/locales"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := safety.Load(os.DirFS("testdata/mini/safety"))
	if err != nil {
		t.Fatal(err)
	}
	var det flow.Detector = d
	if wrap != nil {
		det = wrap(d)
	}
	e, err := flow.New(set, cat, flow.Options{Detector: det})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// person plays one person's side of a conversation.
type person struct {
	t       *testing.T
	e       *flow.Engine
	s       bot.Session
	now     time.Time
	reply   bot.Reply
	effects []bot.Effect
	in      bot.Inbound // template for every message
}

func newPerson(t *testing.T, e *flow.Engine, hints ...string) *person {
	return &person{t: t, e: e, now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), in: bot.Inbound{Channel: bot.Web, LangHints: hints}}
}

func (p *person) send(in bot.Inbound) string {
	p.t.Helper()
	var replies []bot.Reply
	p.s, replies, p.effects = p.e.Step(p.s, in, p.now)
	p.now = p.now.Add(time.Minute)
	p.reply = bot.Reply{}
	if len(replies) > 1 {
		p.t.Fatalf("step gave %d replies, want at most one", len(replies))
	}
	if len(replies) == 1 {
		p.reply = replies[0]
	}
	return p.reply.Text
}

func (p *person) say(text string) string {
	in := p.in
	in.Text = text
	return p.send(in)
}

func (p *person) tap(label string) string {
	p.t.Helper()
	for _, c := range p.reply.Choices {
		if c.Label == label {
			in := p.in
			in.Choice = c.ID
			return p.send(in)
		}
	}
	p.t.Fatalf("no choice %q in %+v", label, p.reply.Choices)
	return ""
}

func (p *person) has(kind bot.EffectKind) *bot.Effect {
	for i := range p.effects {
		if p.effects[i].Kind == kind {
			return &p.effects[i]
		}
	}
	return nil
}

func labels(r bot.Reply) []string {
	var out []string
	for _, c := range r.Choices {
		out = append(out, c.Label)
	}
	return out
}

func TestFirstContactOffersHintedLanguageFirst(t *testing.T) {
	p := newPerson(t, mini(t), "ru-RU,ru;q=0.9,en;q=0.5")
	if got := p.say("привет"); got != "Какой язык?" {
		t.Fatalf("first reply %q, want the language question in Russian", got)
	}
	if got, want := labels(p.reply), []string{"Русский", "English"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("language choices %q, want %q", got, want)
	}
	if got := p.tap("English"); got != "What now?" {
		t.Fatalf("after choosing English: %q", got)
	}
	if p.s.Lang != "en" {
		t.Fatalf("language %q, want en", p.s.Lang)
	}
}

func TestQuizByTypedAnswersAndPlural(t *testing.T) {
	p := newPerson(t, mini(t), "ru")
	p.say("hi")
	p.tap("Русский")
	if got := p.say("тест"); got != "У кого должен быть паспорт?" {
		t.Fatalf("a recognisable part of a label should pick it, got %q", got)
	}
	if p.has(bot.Count) == nil || p.has(bot.Count).Name != "quiz.started" {
		t.Fatalf("the quiz's tag was not counted: %+v", p.effects)
	}
	if got := p.say("1"); got != "1 правильный ответ." {
		t.Fatalf("answer by number: %q", got)
	}
	if len(p.s.Stack) != 0 {
		t.Fatalf("the flow ended, the stack should be empty: %+v", p.s.Stack)
	}
}

func TestDangerWordsInLatinLettersMidFlow(t *testing.T) {
	e := mini(t)
	p := newPerson(t, e, "ru")
	p.in.Country = "EE"
	p.say("hi")
	p.tap("Русский")
	p.say("тест")
	got := p.say("POMOGITE pozhaluysta")
	if !strings.HasPrefix(got, "Звоните 112, 116 006.") || !strings.Contains(got, "Поговорить с кем-то сейчас?") {
		t.Fatalf("danger guidance missing: %q", got)
	}
	if p.has(bot.Alert) == nil {
		t.Fatal("no alert effect")
	}
	if got := p.tap("Нет"); got != "У кого должен быть паспорт?" {
		t.Fatalf("after declining, the person should be back at the quiz question, got %q", got)
	}
	p.say("забрали паспорт!")
	p.tap("Да")
	h := p.has(bot.Handoff)
	if h == nil || h.Priority != bot.Urgent || h.Topic != "danger" {
		t.Fatalf("want an urgent handoff, got %+v", p.effects)
	}
	if _, leaked := h.Card["_emergency"]; leaked {
		t.Fatal("internal variables must not reach the intake card")
	}
}

func TestRetryLimitThenMenu(t *testing.T) {
	p := newPerson(t, mini(t), "en")
	p.say("hi")
	p.tap("English")
	p.tap("Talk to a counsellor")
	if got := p.say("old"); got != "A number from 10 to 100, please.\n\nHow old are you?" {
		t.Fatalf("first invalid answer: %q", got)
	}
	if got := p.say("200"); got != "What now?" {
		t.Fatalf("past the retry limit the menu should come, got %q", got)
	}
}

func TestCallReturnsAndHandsOffWithCard(t *testing.T) {
	p := newPerson(t, mini(t), "en")
	p.say("hi")
	p.tap("English")
	p.tap("Talk to a counsellor")
	p.say("17")
	if got := p.say("Y"); got != "Which country are you in?" {
		t.Fatalf("yes/no input: %q", got)
	}
	if got := p.say("Эстония"); got != "A counsellor will write to you, EE." {
		t.Fatalf("after the called flow returns: %q", got)
	}
	h := p.has(bot.Handoff)
	want := map[string]string{"age": "17", "safe_now": "yes", "country": "EE"}
	if h == nil || h.Priority != bot.High || !reflect.DeepEqual(h.Card, want) {
		t.Fatalf("handoff %+v, want card %v", h, want)
	}
}

func TestStaleTapAndUnsupported(t *testing.T) {
	p := newPerson(t, mini(t), "en")
	p.say("hi")
	p.tap("English")
	old := p.reply
	p.tap("Take the quiz")
	in := p.in
	in.Choice = old.Choices[1].ID
	if got := p.send(in); got != "That button is old.\n\nWho should keep your passport?" {
		t.Fatalf("stale tap: %q", got)
	}
	in = p.in
	in.Unsupported = true
	if got := p.send(in); got != "I can only read text.\n\nWho should keep your passport?" {
		t.Fatalf("unsupported: %q", got)
	}
}

func TestHeldConversationRelaysButSafetyWorks(t *testing.T) {
	p := newPerson(t, mini(t), "en")
	p.say("hi")
	p.tap("English")
	p.tap("Take the quiz") // a question is open when the counsellor comes
	p.s.Case = bot.OpenCase{Code: "K7Q-3MX", State: bot.Held}
	if got := p.say("menu"); got != "" || p.has(bot.Relay) == nil || p.has(bot.Relay).Text != "menu" {
		t.Fatalf("while held, words go to the counsellor: reply %q effects %+v", got, p.effects)
	}
	if got := p.say("my boss took it"); got != "" || p.has(bot.Relay).Text != "my boss took it" {
		t.Fatalf("an answer that does not fit the open question goes to the counsellor alone: %q %+v", got, p.effects)
	}
	if got := p.say("help me"); got != "Call 112 now." || p.has(bot.Alert) == nil || p.has(bot.Relay).Text != "help me" {
		t.Fatalf("danger while held: %q %+v", got, p.effects)
	}
	if got := p.say("/forget"); got != "Erased." || p.has(bot.Erase) == nil || p.has(bot.Relay).Name != "erase" {
		t.Fatalf("erase while held: %q %+v", got, p.effects)
	}
	if p.s.Case != (bot.OpenCase{}) || p.s.Lang != "en" {
		t.Fatalf("erase should leave only the language: %+v", p.s)
	}
}

func TestPauseRestartsAtMenuAndDeepLink(t *testing.T) {
	p := newPerson(t, mini(t), "en")
	in := p.in
	in.Start, in.Text = "school", "/start school"
	if got := p.send(in); got != "Who should keep your passport?" {
		t.Fatalf("deep link: %q", got)
	}
	if c := p.has(bot.Count); c == nil || c.Name != "campaign.school" {
		t.Fatalf("campaign not counted: %+v", p.effects)
	}
	p.now = p.now.Add(25 * time.Hour)
	if got := p.say("2"); got != "What now?" {
		t.Fatalf("after a long pause the menu comes first, got %q", got)
	}
}

func TestStepIsDeterministic(t *testing.T) {
	e := mini(t)
	run := func() []string {
		p := newPerson(t, e, "en")
		var out []string
		for _, s := range []string{"hi", "1", "2", "33", "y", "Estonia"} {
			out = append(out, p.say(s))
		}
		return out
	}
	if a, b := run(), run(); !reflect.DeepEqual(a, b) {
		t.Fatalf("two runs differ:\n%q\n%q", a, b)
	}
}

func TestDangerWordsChooseTheLanguageWhenNoHintDoes(t *testing.T) {
	p := newPerson(t, mini(t))
	if got := p.say("pomogite"); !strings.HasPrefix(got, "Звоните 112.") {
		t.Fatalf("with no language hint, Russian danger words in Latin letters should be answered in Russian: %q", got)
	}
	p = newPerson(t, mini(t), "en")
	if got := p.say("помогите"); !strings.HasPrefix(got, "Call 112 now.") {
		t.Fatalf("a confident hint keeps its language: %q", got)
	}
}

func TestLoadRefusesMisspeltKeys(t *testing.T) {
	global, err := os.ReadFile("testdata/mini/flows/commands.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{
		"node":   "id: x\nnodes:\n  a:\n    sya: [m]\n",
		"choice": "id: x\nnodes:\n  a:\n    ask: q\n    choices:\n      - {lable: m}\n",
		"case":   "id: x\nnodes:\n  a:\n    branch:\n      - {iff: {var: v, eq: x}}\n",
	} {
		_, err := flow.Load(fstestFS(map[string][]byte{"commands.yaml": global, "x.yaml": []byte(src)}))
		if err == nil || !strings.Contains(err.Error(), "x.yaml:") || !strings.Contains(err.Error(), "unknown key") {
			t.Errorf("%s: a misspelt key loaded: %v", name, err)
		}
	}
}

// TestCountryInASentence: the country question takes a country named inside
// a sentence and inflected by it, and never takes "no" for Norway.
func TestCountryInASentence(t *testing.T) {
	e, _ := flowtest.Shipped(t)
	for text, want := range map[string]string{
		"I am in Latvia": "LV", "в Латвии": "LV", "я сейчас в эстонии": "EE", "olen Soomes": "FI",
		"Estonia": "EE", "Bosnia and Herzegovina": "BA", "no": "", "I don't know": "", "nope": "",
	} {
		now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		s := bot.Session{Lang: "en", Stack: []bot.Frame{{Flow: "findhelp", Node: "country"}}, Last: now.Unix()}
		s, _, _ = e.Step(s, bot.Inbound{Text: text}, now)
		if got := s.Vars["country"]; got != want {
			t.Errorf("%q: country %q, want %q", text, got, want)
		}
	}
}

// TestTypedSentenceIsNotAChoice, in every shipped language: at a yes/no
// question of the self-check, a sentence that starts with the language's
// own "No" is not the answer No (it is kept as a note for the counsellor,
// and the question is asked again), while the label of "I don't know",
// typed in lower case without its accents, is that answer.
func TestTypedSentenceIsNotAChoice(t *testing.T) {
	e, cat := flowtest.Shipped(t)
	det, err := safety.Load(locales.Safety())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(l string) bot.Session {
		return bot.Session{Lang: l, Stack: []bot.Frame{{Flow: "selfcheck", Node: "q_docs"}}, Last: now.Unix()}
	}
	for _, l := range cat.Languages() {
		t.Run(l, func(t *testing.T) {
			no, _ := cat.Text(l, "common.no", nil, nil)
			// A sentence the safety net raises no alarm for, which would
			// answer it first: the first of these that does not.
			sentence := ""
			for _, id := range []string{"welcome.safe_now", "common.stale", "menu.waiting"} {
				rest, _ := cat.Text(l, id, nil, nil)
				if s := no + " " + strings.TrimRight(rest, "?.:"); !det.Detect(s).Raised() {
					sentence = s
					break
				}
			}
			if sentence == "" {
				t.Fatal("every sentence raises an alarm")
			}
			s, replies, effects := e.Step(at(l), bot.Inbound{Channel: bot.Web, Text: sentence}, now)
			if v := s.Vars["documents_kept"]; v != "" {
				t.Fatalf("%q was taken for an answer: documents_kept=%q", sentence, v)
			}
			if s.Vars["note"] != sentence {
				t.Errorf("the sentence was not kept as a note: %q", s.Vars["note"])
			}
			if len(replies) != 1 || len(replies[0].Choices) < 4 || top(s) != "selfcheck/q_docs" {
				t.Fatalf("the question was not asked again: %+v at %s (%v)", replies, top(s), effects)
			}
			dk, _ := cat.Text(l, "common.dont_know", nil, nil)
			typed := strings.ToLower(flow.Normalize(dk))
			s, _, _ = e.Step(at(l), bot.Inbound{Channel: bot.Web, Text: typed}, now)
			if v := s.Vars["documents_kept"]; v != "not sure" {
				t.Fatalf("%q (typed %q) was not taken for \"I don't know\": documents_kept=%q", dk, typed, v)
			}
		})
	}
}

func top(s bot.Session) string {
	if len(s.Stack) == 0 {
		return ""
	}
	f := s.Stack[len(s.Stack)-1]
	return f.Flow + "/" + f.Node
}

// TestSerbianCountryInLatinLetters: a Serbian person writes country names
// in Latin letters, diacritics or not.
func TestSerbianCountryInLatinLetters(t *testing.T) {
	e, _ := flowtest.Shipped(t)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for text, want := range map[string]string{"Švajcarska": "CH", "u Nemačkoj sam": "DE", "svajcarska": "CH", "Mađarska": "HU"} {
		s := bot.Session{Lang: "sr", Stack: []bot.Frame{{Flow: "findhelp", Node: "country"}}, Last: now.Unix()}
		s, _, _ = e.Step(s, bot.Inbound{Channel: bot.Web, Text: text}, now)
		if got := s.Vars["country"]; got != want {
			t.Errorf("%q: country %q, want %s", text, got, want)
		}
	}
}

// counting counts the messages the safety net is asked about.
type counting struct {
	flow.Detector
	n int
}

func (c *counting) Detect(text string) bot.Alarm {
	c.n++
	return c.Detector.Detect(text)
}

// TestCommandName: a whole message that is a command names it, a message
// that raises an alarm runs none, and a message that is no command costs
// no look at the safety net, which Step takes anyway.
func TestCommandName(t *testing.T) {
	c := &counting{}
	e := miniWith(t, func(d flow.Detector) flow.Detector { c.Detector = d; return c })
	for text, want := range map[string]string{"/forget": "erase", "/menu": "menu", "help me": "", "hello there": "", "": ""} {
		if got := e.CommandName(text); got != want {
			t.Errorf("CommandName(%q) = %q, want %q", text, got, want)
		}
	}
	if c.n != 2 {
		t.Errorf("the safety net was asked %d times, want 2 (the two commands)", c.n)
	}
}

// TestAlarmNeedsAnUrgentHandoff: an alarm names the node of its flow that
// asks for a counsellor at once, for a person already in the intake; the
// flows do not load without one, or with one that hands off nothing.
func TestAlarmNeedsAnUrgentHandoff(t *testing.T) {
	files := map[string][]byte{}
	dir := "testdata/mini/flows"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(dir + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	global := string(files["commands.yaml"])
	for _, c := range []struct{ alarm, want string }{
		{"{say: danger.now, call: danger}", "needs urgent"},
		{"{say: danger.now, call: danger, urgent: offer}", "is not a node of danger that hands off"},
		{"{say: danger.now, call: danger, urgent: nowhere}", "is not a node of danger that hands off"},
	} {
		files["commands.yaml"] = []byte(strings.Replace(global, "{say: danger.now, call: danger, urgent: handoff}", c.alarm, 1))
		set, err := flow.Load(fstestFS(files))
		if err != nil {
			t.Fatal(err)
		}
		errs := fmt.Sprint(set.Check())
		if !strings.Contains(errs, c.want) {
			t.Errorf("danger alarm %s: got %v, want %q", c.alarm, errs, c.want)
		}
	}
}
