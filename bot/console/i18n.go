package console

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/locales"
)

// loc speaks the console's words in one language: the counsellor's.
type loc struct {
	// Lang is the code of the console locale.
	Lang string
	cat  *lang.Catalog
}

// HTMLLang is the language of the page, with the script its locale is
// written in (sr-Latn), for <html lang>.
func (l loc) HTMLLang() string { return lang.Tag(l.Lang).String() }

// uiCatalog loads the console's shipped locale files.
func uiCatalog() *lang.Catalog {
	cat, err := lang.Load(locales.Console())
	if err != nil {
		panic(err) // the files are embedded and tested
	}
	return cat
}

// locFor chooses the language a counsellor reads the console in: the first
// of their languages the console speaks, else the browser's
// Accept-Language, else English.
func (c *Console) locFor(r *http.Request, u *user) loc {
	if u != nil {
		for _, l := range u.Langs {
			if c.ui.Has(l, "console.name") {
				return loc{Lang: l, cat: c.ui}
			}
		}
	}
	code, _ := c.ui.Match(r.Header.Get("Accept-Language"))
	return loc{Lang: code, cat: c.ui}
}

// T is message id with the variables given as name, value pairs.
func (l loc) T(id string, kv ...string) string {
	s, _ := l.cat.Text(l.Lang, id, pairs(kv), nil)
	return s
}

// N is the plural message id for n, with the variables of kv.
func (l loc) N(id string, n int, kv ...string) string {
	s, _ := l.cat.Text(l.Lang, id, pairs(kv), &n)
	return s
}

// Word is message prefix.key, or the key in plain words when no locale
// names it: a topic or a wrap-up category the shipped files do not know.
func (l loc) Word(prefix, key string) string {
	id := prefix + "." + strings.ReplaceAll(key, " ", "_")
	if s, _ := l.cat.Text(l.Lang, id, nil, nil); s != id {
		return s
	}
	return strings.ReplaceAll(key, "_", " ")
}

// Value names an answer on the card. A question that takes several picks
// keeps them space-separated ("shelter medical"): each is named.
func (l loc) Value(v string) string {
	id := "value." + strings.ReplaceAll(v, " ", "_")
	if s, _ := l.cat.Text(l.Lang, id, nil, nil); s != id || !strings.Contains(v, " ") {
		return l.Word("value", v)
	}
	return l.Words("value", strings.Fields(v))
}

// Words is Word for each key, joined by commas.
func (l loc) Words(prefix string, keys []string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = l.Word(prefix, k)
	}
	return strings.Join(out, ", ")
}

// LangName names the language of code in the counsellor's language, with
// its own name beside when they differ: "Russian (русский)". The names are
// in the script of the counsellor's locale ("ruski" in the Serbian one); the
// person's language is named by its code alone, since CLDR calls sr-Latn
// Serbo-Croatian.
func (l loc) LangName(code string) string {
	t, err := language.Parse(code)
	if err != nil {
		return code
	}
	name := display.Tags(lang.Tag(l.Lang)).Name(t)
	self := display.Self.Name(t)
	switch {
	case name == "":
		return code
	case self != "" && !strings.EqualFold(self, name):
		return name + " (" + self + ")"
	}
	return name
}

// Ago says how long ago t was, to the minute.
func (l loc) Ago(t time.Time) string {
	d := time.Since(t)
	if d < time.Minute {
		return l.T("time.just_now")
	}
	return l.T("time.ago", "d", l.Span(d))
}

// Span says a duration to the minute: "1 h 5 min", "12 min".
func (l loc) Span(d time.Duration) string {
	m := int(d / time.Minute)
	if m < 60 {
		return strconv.Itoa(m) + " " + l.T("time.min")
	}
	return strconv.Itoa(m/60) + " " + l.T("time.h") + " " + strconv.Itoa(m%60) + " " + l.T("time.min")
}

// JSWords are the words the page's script says, as data attributes.
func (l loc) JSWords() template.HTMLAttr {
	var b strings.Builder
	for _, id := range []string{"console.new_case", "console.urgent_case", "console.notify_body", "console.notify_on",
		"console.notify_off", "console.error", "console.offline", "case.new_message", "case.sending", "case.sent",
		"case.canned_none", "time.h", "time.min", "time.s", "queue.waiting_count"} {
		b.WriteString(" data-" + strings.NewReplacer(".", "-", "_", "-").Replace(id) + `="` + template.HTMLEscapeString(l.T(id)) + `"`)
	}
	return template.HTMLAttr(b.String())
}

func pairs(kv []string) map[string]string {
	if len(kv) == 0 {
		return nil
	}
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}
