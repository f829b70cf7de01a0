package lint

import (
	"strings"

	"github.com/helpline/helpline/bot/flow"
)

// word is one keyword or danger word as the engine matches it.
type word struct {
	norm string
	raw  string
	cmd  *flow.Command
	lang string
	id   string
}

// keywords reports keywords the engine could not tell apart: the same
// keyword for two commands (in any languages: the engine matches every
// language's keywords), a keyword the safety net raises an alarm for (the
// alarm always answers it, never the command), and words that normalise to
// nothing.
func (l *linter) keywords() {
	var keys []word
	for _, c := range l.set.Global.Commands {
		keys = append(keys, l.words(c, c.Keywords)...)
	}
	owner := map[string]word{}
	for _, k := range keys {
		if k.norm == "" {
			l.addLocale(k.lang, k.id, Warning, "keyword %q of command %q is empty once normalised: it can never match", k.raw, k.cmd.Name)
			continue
		}
		first, dup := owner[k.norm]
		if !dup {
			owner[k.norm] = k
		} else if first.cmd != k.cmd {
			l.addLocale(k.lang, k.id, Error, "keyword %q of command %q is also a keyword of command %q (%s in %s)", k.raw, k.cmd.Name, first.cmd.Name, first.id, first.lang)
			continue
		}
		if l.opts.Safety == nil {
			continue
		}
		if a := l.opts.Safety.Detect(k.raw); a.Raised() {
			l.addLocale(k.lang, k.id, Error, "keyword %q of command %q raises the alarm %s (lexicon %s): the safety net answers it, never the command",
				k.raw, k.cmd.Name, strings.Trim(a.Danger+" "+a.SelfHarm, " "), a.Lang)
		}
	}
}

// words splits message id into its |-separated words, in every language
// that has it.
func (l *linter) words(cmd *flow.Command, id string) []word {
	if id == "" {
		return nil
	}
	var out []word
	for _, code := range l.cat.Languages() {
		if !l.cat.Has(code, id) {
			continue
		}
		text, _ := l.cat.Text(code, id, nil, nil)
		for _, raw := range strings.Split(text, "|") {
			raw = strings.TrimSpace(raw)
			out = append(out, word{norm: flow.Normalize(raw), raw: raw, cmd: cmd, lang: code, id: id})
		}
	}
	return out
}

// answers reports a language's name, a reply's label (skip, done, cancel)
// or a word list (yes, no, cancel, the queue's words) that the safety net
// raises an alarm for:
// a person taps or types these to answer, and the alarm would answer
// instead. A whole-message rule such as "again" or "I quit" easily catches
// one ("Eesti" one typo from "uuesti", again in Estonian).
func (l *linter) answers(refs []ref) {
	if l.opts.Safety == nil {
		return
	}
	seen := map[string]bool{}
	for _, r := range refs {
		// A node's choices may name danger on purpose ("I need help
		// now"), and a tap sends the choice, not its words.
		// Commands' keywords are checked by keywords.
		if r.use == said || r.use == label && strings.HasPrefix(r.what, "node ") || strings.HasPrefix(r.what, "keywords of command") || seen[r.id] {
			continue
		}
		seen[r.id] = true
		for _, code := range l.cat.Languages() {
			if !l.cat.Has(code, r.id) {
				continue
			}
			text, _ := l.cat.Text(code, r.id, nil, nil)
			words := []string{text}
			if r.use == list {
				words = strings.Split(text, "|")
			}
			for _, w := range words {
				w = strings.TrimSpace(w)
				if a := l.opts.Safety.Detect(w); a.Raised() {
					l.addLocale(code, r.id, Error, "%q, which a person taps or types to answer (%s), raises the alarm %s (lexicon %s): the safety net would answer it instead",
						w, r.what, strings.Trim(a.Danger+" "+a.SelfHarm, " "), a.Lang)
				}
			}
		}
	}
}
