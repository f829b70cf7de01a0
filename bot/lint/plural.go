package lint

import (
	"slices"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// pluralForm is one CLDR plural form and where go-i18n keeps its text.
type pluralForm struct {
	form plural.Form
	name string
	text func(*i18n.Message) string
}

// forms lists the CLDR plural forms in the order translators know them.
var forms = []pluralForm{
	{plural.Zero, "zero", func(m *i18n.Message) string { return m.Zero }},
	{plural.One, "one", func(m *i18n.Message) string { return m.One }},
	{plural.Two, "two", func(m *i18n.Message) string { return m.Two }},
	{plural.Few, "few", func(m *i18n.Message) string { return m.Few }},
	{plural.Many, "many", func(m *i18n.Message) string { return m.Many }},
	{plural.Other, "other", func(m *i18n.Message) string { return m.Other }},
}

// decimals are numbers with a fraction, as CLDR operands (i, v, w, f, t):
// some languages use a form only for them, as Russian does "other".
var decimals = [][5]int{
	{0, 1, 1, 5, 5},   // 0.5
	{1, 1, 1, 5, 5},   // 1.5
	{2, 1, 1, 5, 5},   // 2.5
	{1, 1, 0, 0, 0},   // 1.0
	{2, 2, 2, 25, 25}, // 2.25
	{5, 1, 1, 1, 1},   // 5.1
}

// neededForms returns the names of the plural forms lang's cardinal numbers
// fall into: every one of them must be in a plural message. English and
// Estonian need one and other; Russian needs one, few, many and other.
func neededForms(lang string) []string {
	tag := language.Make(lang)
	seen := map[plural.Form]bool{}
	for i := 0; i <= 1000; i++ {
		seen[plural.Cardinal.MatchPlural(tag, i, 0, 0, 0, 0)] = true
	}
	for _, d := range decimals {
		seen[plural.Cardinal.MatchPlural(tag, d[0], d[1], d[2], d[3], d[4])] = true
	}
	var names []string
	for _, f := range forms {
		if seen[f.form] {
			names = append(names, f.name)
		}
	}
	return names
}

// isPlural reports whether m has plural forms beyond other.
func isPlural(m *i18n.Message) bool {
	return m != nil && m.Zero+m.One+m.Two+m.Few+m.Many != ""
}

// texts returns the non-empty forms of m.
func texts(m *i18n.Message) []string {
	var out []string
	for _, f := range forms {
		if t := f.text(m); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// sameText reports whether a and b say the same in every form.
func sameText(a, b *i18n.Message) bool {
	return !slices.ContainsFunc(forms, func(f pluralForm) bool { return f.text(a) != f.text(b) })
}
