// Package lint finds the mistakes in a flow set and its locales that would
// hurt a person at run time: everything flow.Set.Check finds, and messages
// missing in a language, placeholders and plural forms that differ between
// languages, untranslated text, choice IDs too long for Telegram, keywords
// that clash, and messages too long for SMS.
package lint

import (
	"cmp"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/lang"
)

// Severity says whether a finding stops the content from being served.
type Severity uint8

// The severities of a finding. An Error must be fixed; a Warning is worth a
// look.
const (
	Error Severity = iota
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Finding is one mistake, at the line of a flow or locale file that causes
// it. File is the name the file was loaded under.
type Finding struct {
	File     string
	Line     int
	Severity Severity
	Msg      string
}

// String formats f as file:line: message, with "warning: " before the
// message of a warning. A finding about a whole file or folder has Line 0
// and formats as file: message.
func (f Finding) String() string {
	msg := f.Msg
	if f.Severity == Warning {
		msg = "warning: " + msg
	}
	if f.Line == 0 {
		return fmt.Sprintf("%s: %s", f.File, msg)
	}
	return fmt.Sprintf("%s:%d: %s", f.File, f.Line, msg)
}

// Options tune the checks.
type Options struct {
	// SameAsEnglish lists, by language code, the message IDs whose value
	// may be the same as the English one: a name, a number, a word both
	// languages share. It is read from SameAsEnglishFile.
	SameAsEnglish map[string][]string
	// Flows holds the flow files the set was loaded from. Lint reads the
	// commands file from it to point at the line of each reply; without it,
	// the replies are reported at line 1 of that file.
	Flows fs.FS
	// Safety is the safety detector the engine will run: no keyword may
	// raise its alarm. Nil skips that check.
	Safety flow.Detector
}

// Check lints set against the messages of cat. It returns every finding,
// sorted by file and line; the content is fit to serve when none of them is
// an Error.
func Check(set *flow.Set, cat *lang.Catalog, opts Options) []Finding {
	l := &linter{
		set:   set,
		cat:   cat,
		opts:  opts,
		lines: map[string]map[string]int{},
	}
	for _, e := range set.Check() {
		l.add(e.File, e.Line, Error, "%s", e.Msg)
	}
	refs := l.refs()
	l.missing(refs)
	l.counts(refs)
	l.lengths(refs)
	l.templates()
	l.plurals()
	l.untranslated()
	l.reviewed()
	l.choiceIDs()
	l.keywords()
	l.answers(refs)
	return l.sorted()
}

// reviewed reports a locale, other than the fallback, whose header does not
// say whether a native speaker reviewed it: an organisation must know that
// before a launch.
func (l *linter) reviewed() {
	for _, code := range l.cat.Languages() {
		if code == lang.Fallback {
			continue
		}
		f := l.cat.File(code)
		if !saysReview(f.Src) {
			l.add(f.Path, 1, Error, "the header of %s says nothing of review: say whether a native speaker reviewed it, for example \"# NB: this translation was written without a native speaker's review.\"", f.Path)
		}
	}
}

// saysReview reports whether the comments of a locale file's header (up to
// its first table's line) speak of a native speaker's review.
func saysReview(src []byte) bool {
	for _, line := range strings.Split(string(src), "\n") {
		_, comment, _ := strings.Cut(line, "#")
		if strings.Contains(strings.ToLower(comment), "native speaker") {
			return true
		}
		if strings.HasPrefix(strings.TrimSpace(line), "[") {
			return false
		}
	}
	return false
}

// linter gathers the findings of one Check.
type linter struct {
	set      *flow.Set
	cat      *lang.Catalog
	opts     Options
	findings []Finding
	// lines caches the key lines of each language's locale file.
	lines map[string]map[string]int
}

func (l *linter) add(file string, line int, sev Severity, format string, args ...any) {
	l.findings = append(l.findings, Finding{File: file, Line: max(line, 1), Severity: sev, Msg: fmt.Sprintf(format, args...)})
}

// addLocale reports a finding at the line of message id in lang's file.
func (l *linter) addLocale(lang, id string, sev Severity, format string, args ...any) {
	l.add(l.cat.File(lang).Path, l.line(lang, id), sev, format, args...)
}

// line returns the line of message id in lang's locale file.
func (l *linter) line(lang, id string) int {
	lines, ok := l.lines[lang]
	if !ok {
		lines = keyLines(l.cat.File(lang).Src)
		l.lines[lang] = lines
	}
	if n, ok := lines[id]; ok {
		return n
	}
	return 1
}

// sorted orders the findings by file, line and message, and drops repeats.
func (l *linter) sorted() []Finding {
	slices.SortFunc(l.findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Msg, b.Msg), cmp.Compare(a.Severity, b.Severity))
	})
	return slices.Compact(l.findings)
}

// HasErrors reports whether any finding is an Error.
func HasErrors(findings []Finding) bool {
	return slices.ContainsFunc(findings, func(f Finding) bool { return f.Severity == Error })
}
