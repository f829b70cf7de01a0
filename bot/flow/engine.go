// Package flow is the conversation engine: it loads flow files, checks them,
// and runs one step of a conversation at a time. It is pure: no I/O, no
// clock, no randomness; the host passes in the time and does the rest.
package flow

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/lang"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Messages is what the engine needs of the locales.
type Messages interface {
	// Languages lists the shipped language codes, the fallback first.
	Languages() []string
	// Text renders a message; ok is false when it fell back to another
	// language or is missing.
	Text(lang, id string, vars map[string]string, count *int) (text string, ok bool)
	// Has reports whether lang has its own message id.
	Has(lang, id string) bool
	// Match negotiates a language from hints; ok is false when no hint
	// matched with confidence.
	Match(hints ...string) (code string, ok bool)
}

// Options tune the engine.
type Options struct {
	// Pause is how long a conversation may rest before the next message
	// starts again at the menu. Zero means 24 hours.
	Pause time.Duration
	// Emergency lists the numbers to show per country (ISO 3166 alpha-2,
	// upper case); "default" serves any other country. Nil means the set's
	// own list.
	Emergency map[string]Numbers
	// Detector notices danger and self-harm in every text. Required: an
	// engine that cannot notice danger is refused.
	Detector Detector
	// Open reports whether counsellors are at work at a time; nil means
	// always.
	Open func(time.Time) bool
}

// Detector is what the engine needs of the safety net (bot/safety).
type Detector interface {
	Detect(text string) bot.Alarm
}

// Engine runs conversations over a checked flow set.
type Engine struct {
	set   *Set
	msgs  Messages
	opts  Options
	langs []string

	slash    map[string]*Command
	keywords map[string]*Command
	// labels holds each choice label's normalised text, by language, then
	// message ID.
	labels map[string]map[string]string
	yes    map[string]bool
	no     map[string]bool
	// words holds each language's own yes and no words: a choice labelled
	// with one is answered by any of them.
	words map[string]*yesNo
	// countries maps normalised country names, in every shipped language
	// and in English, to ISO codes; oneWord lists those of one word and
	// five letters or more, sorted.
	countries map[string]string
	oneWord   []countryName
	// cancel and place hold the normalised words that cancel a request and
	// that ask for the place in the queue, in every language.
	cancel, place map[string]bool
	// numbered holds the messages that show emergency numbers: they are
	// rendered with the numbers of the person's country.
	numbered map[string]bool
	// handsOff holds the flows that ask for a counsellor.
	handsOff map[string]bool
	// toCounsellor holds the nodes ("flow/node") from which a flow asks for
	// a counsellor before it asks anything else.
	toCounsellor map[string]bool
	// series places the questions of a series, by flow/node; kinds marks
	// the choices that forget the person.
	series map[string]place
	kinds  map[*Option]bot.ChoiceKind
}

// New makes an engine. It refuses a set that Check finds mistakes in.
func New(set *Set, msgs Messages, opts Options) (*Engine, error) {
	if errs := set.Check(); len(errs) > 0 {
		return nil, fmt.Errorf("flows have %d mistakes, the first: %w", len(errs), errs[0])
	}
	if opts.Detector == nil {
		return nil, errors.New("no safety detector: the engine must notice danger in every message")
	}
	if opts.Emergency == nil {
		opts.Emergency = set.Emergency
	}
	if opts.Pause == 0 {
		opts.Pause = 24 * time.Hour
	}
	e := &Engine{
		set:          set,
		msgs:         msgs,
		opts:         opts,
		langs:        msgs.Languages(),
		slash:        map[string]*Command{},
		keywords:     map[string]*Command{},
		labels:       map[string]map[string]string{},
		yes:          map[string]bool{},
		no:           map[string]bool{},
		words:        map[string]*yesNo{},
		countries:    map[string]string{},
		cancel:       map[string]bool{},
		place:        map[string]bool{},
		numbered:     map[string]bool{},
		handsOff:     map[string]bool{},
		toCounsellor: map[string]bool{},
		series:       findSeries(set),
		kinds:        findKinds(set),
	}
	for id, f := range set.Flows {
		for _, n := range f.Nodes {
			if n.Handoff != nil {
				e.handsOff[id] = true
			}
			if set.reaches(f, n.ID, func(n *Node) bool { return n.Handoff != nil }, map[*Node]bool{}) {
				e.toCounsellor[id+"/"+n.ID] = true
			}
		}
	}
	for _, cmd := range set.Global.Commands {
		for _, s := range cmd.Slash {
			e.slash[strings.ToLower(s)] = cmd
		}
		for _, l := range e.langs {
			for _, w := range e.list(l, cmd.Keywords) {
				e.keywords[w] = cmd
			}
		}
	}
	for _, l := range e.langs {
		yn := &yesNo{yes: map[string]bool{}, no: map[string]bool{}}
		for _, w := range e.list(l, set.Global.Replies.Yes) {
			e.yes[w], yn.yes[w] = true, true
		}
		for _, w := range e.list(l, set.Global.Replies.No) {
			e.no[w], yn.no[w] = true, true
		}
		e.words[l] = yn
		cr := set.Global.Cases
		for _, w := range append(e.list(l, cr.CancelWords), e.list(l, cr.Cancel)...) {
			e.cancel[w] = true
		}
		for _, w := range e.list(l, cr.PlaceWords) {
			e.place[w] = true
		}
		e.labels[l] = map[string]string{}
		for _, id := range []string{set.Global.Replies.Skip, set.Global.Replies.Done} {
			if id != "" {
				t, _ := msgs.Text(l, id, nil, nil)
				e.labels[l][id] = Normalize(t)
			}
		}
		for _, f := range set.Flows {
			for _, n := range f.Nodes {
				for _, o := range n.Choices {
					t, _ := msgs.Text(l, o.Label, nil, nil)
					e.labels[l][o.Label] = Normalize(t)
				}
			}
		}
	}
	e.loadCountries()
	for name, cc := range otherCountryNames {
		e.countries[Normalize(name)] = cc
	}
	for name, cc := range e.countries {
		if len(name) >= 5 && !strings.Contains(name, " ") {
			e.oneWord = append(e.oneWord, countryName{name, cc})
		}
	}
	slices.SortFunc(e.oneWord, func(a, b countryName) int { return strings.Compare(a.name, b.name) })
	e.findNumbered()
	return e, nil
}

type yesNo struct{ yes, no map[string]bool }

// numberVars are the variables that show emergency numbers, as Numbers
// fills them.
var numberVars = []string{"_emergency", "_police", "_ambulance", "_victims", "_children", "_crisis"}

// findNumbered marks the messages that show a number: rendered with a
// marker in every number variable, their text holds it.
func (e *Engine) findNumbered() {
	probe := map[string]string{}
	for _, v := range numberVars {
		probe[v] = "\x00"
	}
	for _, base := range e.set.MessageIDs() {
		ids := []string{base}
		for ch := range channelVariants {
			ids = append(ids, base+"."+string(ch))
		}
		for _, id := range ids {
			for _, l := range e.langs {
				if t, _ := e.msgs.Text(l, id, probe, nil); strings.Contains(t, "\x00") {
					e.numbered[id] = true
				}
			}
		}
	}
}

// numbers returns the numbers to show in country cc (upper case).
func (e *Engine) numbers(cc string) Numbers {
	n, ok := e.opts.Emergency[cc]
	if !ok {
		n = e.opts.Emergency["default"]
	}
	if n.Emergency == "" && n.Police == "" {
		n.Emergency = "112"
	}
	return n
}

// vars returns the variables of a message: the person's, with the numbers
// of their country for a message that shows them.
func (n Numbers) vars(vars map[string]string) map[string]string {
	out := make(map[string]string, len(vars)+len(numberVars))
	for k, v := range vars {
		out[k] = v
	}
	for i, v := range []string{n.Emergency, n.Police, n.Ambulance, n.Victims, n.Children, n.Crisis} {
		if v != "" {
			out[numberVars[i]] = v
		}
	}
	return out
}

// list reads a |-separated message as normalised words.
func (e *Engine) list(lang, id string) []string {
	if id == "" || !e.msgs.Has(lang, id) {
		return nil
	}
	t, _ := e.msgs.Text(lang, id, nil, nil)
	var out []string
	for _, w := range strings.Split(t, "|") {
		if w = Normalize(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// loadCountries names every country in every shipped language, so that a
// person can answer "Eesti", "Estonia" or "Эстония".
func (e *Engine) loadCountries() {
	// Each language's names in the script its file is written in too:
	// Serbian ships in Latin letters, and CLDR's bare "sr" is Cyrillic.
	namers := []display.Namer{display.Self}
	for _, l := range append([]string{"en"}, e.langs...) {
		namers = append(namers, display.Regions(language.Make(l)), display.Regions(lang.Tag(l)))
	}
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			r, err := language.ParseRegion(code)
			if err != nil || !r.IsCountry() {
				continue
			}
			// A bare code is no name people write, and some are words:
			// "no" must never be Norway.
			for _, n := range namers {
				if name := n.Name(r); name != "" {
					e.countries[Normalize(name)] = code
				}
			}
		}
	}
}

// country finds the country a free answer names: the whole answer, or a
// country's name inside it ("I am in Latvia"), also inflected as a
// sentence inflects it ("в Латвии", "Eestis"). It returns "" when none.
func (e *Engine) country(norm string) string {
	if cc := e.countries[norm]; cc != "" {
		return cc
	}
	words := strings.Fields(norm)
	for n := min(3, len(words)); n >= 1; n-- {
		for i := 0; i+n <= len(words); i++ {
			phrase := strings.Join(words[i:i+n], " ")
			if cc := e.countries[phrase]; cc != "" {
				return cc
			}
			if n == 1 {
				if cc := e.inflectedCountry(phrase); cc != "" {
					return cc
				}
			}
		}
	}
	return ""
}

// inflectedCountry matches one word to a one-word country name that differs
// from it only in the last two letters, as case endings do. Both must be
// five letters or more, so that short words are never taken for countries.
func (e *Engine) inflectedCountry(w string) string {
	if len(w) < 5 {
		return ""
	}
	for _, c := range e.oneWord {
		if abs(len(c.name)-len(w)) > 2 {
			continue
		}
		stem := max(len(c.name), len(w)) - 2
		if stem >= 4 && stem <= min(len(c.name), len(w)) && c.name[:stem] == w[:stem] {
			return c.code
		}
	}
	return ""
}

// otherCountryNames are names people write that CLDR does not give: the
// long and short forms of some countries of the helpline's people.
var otherCountryNames = map[string]string{
	"Bosnia and Herzegovina": "BA", "Bosnia": "BA", "BiH": "BA", "Bosna i Hercegovina": "BA", "Bosna": "BA",
	"Kosova": "XK", "Macedonia": "MK", "Turkey": "TR", "Turkiye": "TR", "Moldavia": "MD",
	"Great Britain": "GB", "England": "GB", "Scotland": "GB", "Wales": "GB", "Holland": "NL",
}

// countryName is a one-word country name of five letters or more, for
// inflectedCountry.
type countryName struct{ name, code string }

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// Languages lists the languages the engine answers in.
func (e *Engine) Languages() []string { return e.langs }

// Set returns the flows the engine runs.
func (e *Engine) Set() *Set { return e.set }
