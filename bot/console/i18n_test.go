package console

import (
	"io/fs"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/locales"
)

var placeholder = regexp.MustCompile(`{{\s*\.(\w+)\s*}}`)

// TestConsoleLocalesComplete: every console locale has every English
// message with the same placeholders, renders its plurals for any count,
// and says in its header whether a native speaker reviewed it.
func TestConsoleLocalesComplete(t *testing.T) {
	cat := uiCatalog()
	langs := cat.Languages()
	for _, want := range []string{"en", "et", "lv", "lt", "ru", "uk", "pl", "ro", "bg", "sr", "sq", "tr"} {
		if !slices.Contains(langs, want) {
			t.Errorf("no console locale for %s", want)
		}
	}
	for _, l := range langs[1:] {
		src, _ := fs.ReadFile(locales.Console(), l+".toml")
		head, _, _ := strings.Cut(string(src), "\n[")
		if !strings.Contains(strings.ToLower(head), "native speaker") {
			t.Errorf("%s.toml: the header says nothing of a native speaker's review", l)
		}
		for _, id := range cat.IDs("en") {
			if !cat.Has(l, id) {
				t.Errorf("%s: %s is missing", l, id)
				continue
			}
			m := cat.Message(l, id)
			en := cat.Message("en", id).Other
			for _, n := range []int{0, 1, 2, 5, 11, 21, 22} {
				count := &n
				if cat.Message("en", id).One == "" {
					count = nil
				}
				got, ok := cat.Text(l, id, map[string]string{"code": "X", "held": "1", "d": "1", "lang": "x", "time": "1", "who": "x", "state": "x"}, count)
				if !ok || got == id || strings.Contains(got, "{{") {
					t.Errorf("%s: %s for %d: %q", l, id, n, got)
				}
			}
			if got, want := names(m.Other+m.One), names(en); !slices.Equal(got, want) && want != nil {
				t.Errorf("%s: %s has placeholders %v, English %v", l, id, got, want)
			}
		}
	}
}

func names(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		if m[1] != "Count" && !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// TestConsoleLanguageChoice: a counsellor reads the console in the first of
// their languages it speaks, else in their browser's; a browser set to
// Serbian in Latin script gets the Serbian console, and that console names
// countries and languages in Latin letters, as its words are written.
func TestConsoleLanguageChoice(t *testing.T) {
	c := &Console{ui: uiCatalog()}
	for _, tc := range []struct {
		langs  []string
		accept string
		want   string
	}{
		{[]string{"uk", "ru"}, "en", "uk"},
		{[]string{"xx", "pl"}, "", "pl"},
		{nil, "sr-Latn-RS,sr;q=0.9,en;q=0.5", "sr"},
		{nil, "hr-HR", "sr"},
		{nil, "ro-MD", "ro"},
		{nil, "tr-TR,tr;q=0.9", "tr"},
		{nil, "sq-XK", "sq"},
		{nil, "bg", "bg"},
		{nil, "de-DE", "en"},
	} {
		r := httptest.NewRequest("GET", "/console/", nil)
		r.Header.Set("Accept-Language", tc.accept)
		var u *user
		if tc.langs != nil {
			u = &user{Counsellor: bot.Counsellor{Name: "anna", Langs: tc.langs}}
		}
		if got := c.locFor(r, u).Lang; got != tc.want {
			t.Errorf("langs %v, Accept-Language %q: console in %s, want %s", tc.langs, tc.accept, got, tc.want)
		}
	}
	sr := loc{Lang: "sr", cat: c.ui}
	if got := sr.HTMLLang(); got != "sr-Latn" {
		t.Errorf("Serbian page: <html lang=%q>, want sr-Latn", got)
	}
	if got := regionName("sr", "DE"); got != "Nemačka" {
		t.Errorf("Serbian console names DE %q, want Nemačka", got)
	}
	if got := sr.LangName("ru"); got != "ruski (русский)" {
		t.Errorf("Serbian console names ru %q, want ruski (русский)", got)
	}
	if got := (loc{Lang: "uk", cat: c.ui}).LangName("ru"); got != "російська (русский)" {
		t.Errorf("Ukrainian console names ru %q", got)
	}
}
