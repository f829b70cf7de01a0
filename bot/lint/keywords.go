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
// language's keywords), a keyword that holds a danger word (the danger
// command would always win), and words that normalise to nothing.
func (l *linter) keywords() {
	var keys, danger []word
	for _, c := range l.set.Global.Commands {
		keys = append(keys, l.words(c, c.Keywords)...)
		danger = append(danger, l.words(c, c.Words)...)
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
		for _, d := range danger {
			if d.norm != "" && d.cmd != k.cmd && containsPhrase(k.norm, d.norm) {
				l.addLocale(k.lang, k.id, Error, "keyword %q of command %q holds the danger word %q (%s in %s): the command %q answers it instead", k.raw, k.cmd.Name, d.raw, d.id, d.lang, d.cmd.Name)
				break
			}
		}
	}
	for _, d := range danger {
		if d.norm == "" {
			l.addLocale(d.lang, d.id, Error, "danger word %q of %s is empty once normalised: it can never match", d.raw, d.id)
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

// containsPhrase reports whether the normalised text holds the normalised
// phrase as whole words, as the engine matches danger words.
func containsPhrase(text, phrase string) bool {
	return strings.Contains(" "+text+" ", " "+phrase+" ")
}
