package lint

import (
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/bot/sms"
	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// SameAsEnglishFile is the file beside the locales that lists, by language,
// the messages whose value may be the same as the English one.
const SameAsEnglishFile = "same-as-english.yaml"

// smsSuffix ends the ID of a message's shorter variant for SMS.
const smsSuffix = ".sms"

// missing reports messages the flows name that a language lacks: the person
// would read English, or the message ID.
func (l *linter) missing(refs []ref) {
	for _, r := range refs {
		var langs []string
		for _, code := range l.cat.Languages() {
			if !l.cat.Has(code, r.id) {
				langs = append(langs, code)
			}
		}
		if len(langs) > 0 {
			l.add(r.file, r.line, Error, "%s: message %q is missing in %s", r.what, r.id, strings.Join(langs, ", "))
		}
	}
}

// counts warns of plural messages said without a count, which always take
// the other form, and of counts given to messages with no plural forms.
func (l *linter) counts(refs []ref) {
	for _, r := range refs {
		m := l.cat.Message(lang.Fallback, r.id)
		if m == nil {
			continue
		}
		switch {
		case r.count && !isPlural(m):
			l.add(r.file, r.line, Warning, "%s: message %q is given a count but has no plural forms", r.what, r.id)
		case !r.count && isPlural(m) && r.use == said:
			l.add(r.file, r.line, Warning, "%s: plural message %q is said without a count: write {msg: %s, count: variable}", r.what, r.id, r.id)
		case !r.count && isPlural(m):
			l.add(r.file, r.line, Warning, "%s: plural message %q is used where no count can be given: it always takes its other form", r.what, r.id)
		}
	}
}

// lengths warns of messages that take more than sms.MaxSegments SMS
// segments, in their SMS variant if they have one. A message is measured
// with its placeholders empty and the text of every branch of its template
// ({{if}} ... {{end}}) in: the longest it can be before the values.
func (l *linter) lengths(refs []ref) {
	seen := map[[2]string]bool{}
	for _, r := range refs {
		if r.use != said {
			continue
		}
		for _, code := range l.cat.Languages() {
			id := r.id
			if l.cat.Has(code, id+smsSuffix) {
				id += smsSuffix
			}
			m := l.cat.Message(code, id)
			if m == nil || seen[[2]string{code, id}] {
				continue
			}
			seen[[2]string{code, id}] = true
			_, plains, err := shapes(m)
			if err != nil {
				continue // templates reports it
			}
			for _, p := range plains {
				n, ucs2 := sms.Segments(p)
				if n <= sms.MaxSegments {
					continue
				}
				alphabet, hint := "GSM-7", " or add a shorter "+id+smsSuffix
				if ucs2 {
					alphabet = "UCS-2"
				}
				if id != r.id {
					hint = ""
				}
				l.addLocale(code, id, Warning, "message %q takes %d SMS segments in %s (%s): keep it to %d%s", id, n, code, alphabet, sms.MaxSegments, hint)
				break
			}
		}
	}
}

// templates reports messages that are not valid templates, and
// placeholders that differ from the English message of the same ID: a
// translation that drops {{.code}} loses information, and one that adds a
// misspelt {{.cdoe}} shows nothing.
func (l *linter) templates() {
	for _, code := range l.cat.Languages() {
		for _, id := range l.cat.IDs(code) {
			fields, _, err := shapes(l.cat.Message(code, id))
			if err != nil {
				l.addLocale(code, id, Error, "message %q is not a valid template: %v", id, err)
				continue
			}
			if code == lang.Fallback {
				continue
			}
			en := l.english(id)
			if en == nil {
				continue
			}
			want, _, err := shapes(en)
			if err != nil {
				continue // reported for English
			}
			lack, extra := diff(want, fields), diff(fields, want)
			if len(lack)+len(extra) == 0 {
				continue
			}
			var parts []string
			if len(lack) > 0 {
				parts = append(parts, "lacks "+placeholders(lack))
			}
			if len(extra) > 0 {
				parts = append(parts, "has "+placeholders(extra)+", which English has not")
			}
			l.addLocale(code, id, Error, "message %q: placeholders differ from English: %s", id, strings.Join(parts, " and "))
		}
	}
}

// english returns the English message that message id of another language
// translates. An SMS variant English does not have translates the full
// message.
func (l *linter) english(id string) *i18n.Message {
	if m := l.cat.Message(lang.Fallback, id); m != nil {
		return m
	}
	if base, ok := strings.CutSuffix(id, smsSuffix); ok {
		return l.cat.Message(lang.Fallback, base)
	}
	return nil
}

// diff returns the keys of a that b lacks, sorted.
func diff(a, b map[string]bool) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if !b[k] {
			out = append(out, k)
		}
	}
	return out
}

func placeholders(fields []string) string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = "{{." + f + "}}"
	}
	return strings.Join(out, ", ")
}

// plurals reports plural messages that lack a form their language needs:
// go-i18n would fail to render them for some counts.
func (l *linter) plurals() {
	for _, code := range l.cat.Languages() {
		needed := neededForms(code)
		for _, id := range l.cat.IDs(code) {
			m := l.cat.Message(code, id)
			if !isPlural(m) && !isPlural(l.english(id)) {
				continue
			}
			var lack []string
			for _, f := range forms {
				if slices.Contains(needed, f.name) && f.text(m) == "" {
					lack = append(lack, f.name)
				}
			}
			if len(lack) == 0 {
				continue
			}
			s := ""
			if len(lack) > 1 {
				s = "s"
			}
			l.addLocale(code, id, Error, "plural message %q lacks the %s form%s that %s needs (%s)", id, strings.Join(lack, ", "), s, code, strings.Join(needed, ", "))
		}
	}
}

// untranslated reports messages of other languages that read exactly as
// in English, unless they are listed as such in Options.SameAsEnglish. A
// message with no letters (a number, a placeholder alone) is never reported.
func (l *linter) untranslated() {
	for _, code := range l.cat.Languages() {
		if code == lang.Fallback {
			continue
		}
		allowed := l.opts.SameAsEnglish[code]
		for _, id := range l.cat.IDs(code) {
			m, en := l.cat.Message(code, id), l.cat.Message(lang.Fallback, id)
			if en == nil || !sameText(m, en) || slices.Contains(allowed, id) || !hasLetters(m) {
				continue
			}
			l.addLocale(code, id, Error, "message %q is the same as in English: translate it, or list it under %s in %s", id, code, SameAsEnglishFile)
		}
	}
}

// hasLetters reports whether m says any word outside its placeholders.
func hasLetters(m *i18n.Message) bool {
	_, plains, err := shapes(m)
	if err != nil {
		return true
	}
	for _, p := range plains {
		if strings.IndexFunc(p, unicode.IsLetter) >= 0 {
			return true
		}
	}
	return false
}
