// Package flow is the conversation engine: it loads flow files, checks them,
// and runs one step of a conversation at a time. It is pure: no I/O, no
// clock, no randomness; the host passes in the time and does the rest.
package flow

import (
	"fmt"
	"strings"
	"time"

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
	// Emergency lists the emergency numbers to show per country (ISO 3166
	// alpha-2, upper case); "default" is the list for any other country.
	// Nil means the set's own list.
	Emergency map[string][]string
}

// Engine runs conversations over a checked flow set.
type Engine struct {
	set   *Set
	msgs  Messages
	opts  Options
	langs []string

	slash    map[string]*Command
	keywords map[string]*Command
	words    []phrase
	// labels holds each choice label's normalised text, by language, then
	// message ID.
	labels map[string]map[string]string
	yes    map[string]bool
	no     map[string]bool
	// countries maps normalised country names, in every shipped language
	// and in English, to ISO codes.
	countries map[string]string
}

type phrase struct {
	text string
	lang string
	cmd  *Command
}

// New makes an engine. It refuses a set that Check finds mistakes in.
func New(set *Set, msgs Messages, opts Options) (*Engine, error) {
	if errs := set.Check(); len(errs) > 0 {
		return nil, fmt.Errorf("flows have %d mistakes, the first: %w", len(errs), errs[0])
	}
	if opts.Emergency == nil {
		opts.Emergency = set.Emergency
	}
	if opts.Pause == 0 {
		opts.Pause = 24 * time.Hour
	}
	e := &Engine{
		set:       set,
		msgs:      msgs,
		opts:      opts,
		langs:     msgs.Languages(),
		slash:     map[string]*Command{},
		keywords:  map[string]*Command{},
		labels:    map[string]map[string]string{},
		yes:       map[string]bool{},
		no:        map[string]bool{},
		countries: map[string]string{},
	}
	for _, cmd := range set.Global.Commands {
		for _, s := range cmd.Slash {
			e.slash[strings.ToLower(s)] = cmd
		}
		for _, l := range e.langs {
			for _, w := range e.list(l, cmd.Keywords) {
				e.keywords[w] = cmd
			}
			for _, w := range e.list(l, cmd.Words) {
				e.words = append(e.words, phrase{w, l, cmd})
			}
		}
	}
	for _, l := range e.langs {
		for _, w := range e.list(l, set.Global.Replies.Yes) {
			e.yes[w] = true
		}
		for _, w := range e.list(l, set.Global.Replies.No) {
			e.no[w] = true
		}
		e.labels[l] = map[string]string{}
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
	return e, nil
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
	namers := []display.Namer{display.Self}
	for _, l := range append([]string{"en"}, e.langs...) {
		namers = append(namers, display.Regions(language.Make(l)))
	}
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			r, err := language.ParseRegion(code)
			if err != nil || !r.IsCountry() {
				continue
			}
			e.countries[strings.ToLower(code)] = code
			for _, n := range namers {
				if name := n.Name(r); name != "" {
					e.countries[Normalize(name)] = code
				}
			}
		}
	}
}

// Languages lists the languages the engine answers in.
func (e *Engine) Languages() []string { return e.langs }

// Set returns the flows the engine runs.
func (e *Engine) Set() *Set { return e.set }
