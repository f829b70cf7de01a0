package lang_test

import (
	"testing"
	"testing/fstest"

	"github.com/helpline/helpline/bot/lang"
)

func catalog(t *testing.T, files map[string]string) *lang.Catalog {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	c, err := lang.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var sample = map[string]string{
	"en.toml": "[a]\nhi = \"Hello\"\nname = \"Hello {{.name}}\"\nonly_en = \"English only\"\n[a.n]\none = \"{{.Count}} sign\"\nother = \"{{.Count}} signs\"\n",
	"ru.toml": "[a]\nhi = \"Привет\"\nname = \"Привет, {{.name}}\"\n[a.n]\none = \"{{.Count}} признак\"\nfew = \"{{.Count}} признака\"\nmany = \"{{.Count}} признаков\"\nother = \"{{.Count}} признака\"\n",
	"sr.toml": "[a]\nhi = \"Здраво\"\n",
}

func TestMatchNeedsHighConfidence(t *testing.T) {
	c := catalog(t, map[string]string{"en.toml": sample["en.toml"], "sr.toml": sample["sr.toml"]})
	if got, ok := c.Match("ru"); ok {
		t.Fatalf("a Russian speaker was matched to %q; with no Russian shipped, no match is right", got)
	}
	if got, ok := c.Match("sr-RS"); !ok || got != "sr" {
		t.Fatalf("sr-RS matched %q %v, want sr", got, ok)
	}
	c = catalog(t, sample)
	for hint, want := range map[string]string{"ru-RU,ru;q=0.9,en;q=0.8": "ru", "en-GB": "en", "ru-UA": "ru"} {
		if got, ok := c.Match(hint); !ok || got != want {
			t.Errorf("Match(%q) = %q %v, want %q", hint, got, ok, want)
		}
	}
	if got, ok := c.Match("", "not a tag!"); ok || got != lang.Fallback {
		t.Errorf("garbage hints matched %q %v", got, ok)
	}
}

func TestTextPluralsTemplatesAndFallback(t *testing.T) {
	c := catalog(t, sample)
	for _, tc := range []struct {
		lang, id string
		count    int
		want     string
	}{{"ru", "a.n", 1, "1 признак"}, {"ru", "a.n", 3, "3 признака"}, {"ru", "a.n", 5, "5 признаков"}, {"ru", "a.n", 21, "21 признак"}, {"en", "a.n", 2, "2 signs"}} {
		n := tc.count
		if got, ok := c.Text(tc.lang, tc.id, nil, &n); got != tc.want || !ok {
			t.Errorf("Text(%s, %s, %d) = %q %v, want %q", tc.lang, tc.id, n, got, ok, tc.want)
		}
	}
	if got, ok := c.Text("ru", "a.name", map[string]string{"name": "Аня"}, nil); got != "Привет, Аня" || !ok {
		t.Errorf("template: %q %v", got, ok)
	}
	if got, ok := c.Text("ru", "a.only_en", nil, nil); got != "English only" || ok {
		t.Errorf("a missing message falls back to English and reports the miss: %q %v", got, ok)
	}
	if got, ok := c.Text("ru", "no.such", nil, nil); got != "no.such" || ok {
		t.Errorf("a message missing everywhere: %q %v", got, ok)
	}
	if got, ok := c.Text("xx", "a.hi", nil, nil); got != "Hello" || ok {
		t.Errorf("an unknown language: %q %v", got, ok)
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"no english":   {"ru.toml": sample["ru.toml"]},
		"bad name":     {"en.toml": sample["en.toml"], "russian.toml": sample["ru.toml"]},
		"broken toml":  {"en.toml": "[a\nhi = 1"},
		"mixed plural": {"en.toml": "[a.n]\none = \"x\"\nfoo = \"y\"\n"},
	} {
		fsys := fstest.MapFS{}
		for n, src := range files {
			fsys[n] = &fstest.MapFile{Data: []byte(src)}
		}
		if _, err := lang.Load(fsys); err == nil {
			t.Errorf("%s: loaded without error", name)
		}
	}
}

// TestMatchAliases: Bosnian, Croatian and Montenegrin readers get Serbian,
// and so does a browser set to Serbian in either script; Moldovan readers
// Romanian, and a Ukrainian phone gets Ukrainian, not the fallback; a
// language with no shipped kin gets nothing.
func TestMatchAliases(t *testing.T) {
	c := catalog(t, map[string]string{"en.toml": sample["en.toml"], "sr.toml": sample["sr.toml"],
		"ro.toml": "[a]\nhi = \"Salut\"\n", "uk.toml": "[a]\nhi = \"Привіт\"\n"})
	for hint, want := range map[string]string{"hr": "sr", "bs-BA": "sr", "cnr": "sr", "hr-HR,hr;q=0.9,en;q=0.5": "sr", "mo": "ro", "ro-MD": "ro", "uk-UA": "uk", "uk": "uk",
		"sr-Latn": "sr", "sr-Latn-RS,sr;q=0.8": "sr", "sr-Cyrl-RS": "sr", "sr-Latn-BA": "sr"} {
		if got, ok := c.Match(hint); !ok || got != want {
			t.Errorf("Match(%q) = %q %v, want %q", hint, got, ok, want)
		}
	}
	if got, ok := c.Match("hr"); ok && got != "sr" {
		t.Errorf("Match(hr) = %q", got)
	}
	noSerbian := catalog(t, map[string]string{"en.toml": sample["en.toml"]})
	if got, ok := noSerbian.Match("hr"); ok {
		t.Errorf("without Serbian, Croatian matched %q", got)
	}
	if got, ok := noSerbian.Match("sr-Latn"); ok {
		t.Errorf("without Serbian, sr-Latn matched %q", got)
	}
}

// TestTag: the Serbian locale is named in Latin script; others as they are.
func TestTag(t *testing.T) {
	for code, want := range map[string]string{"sr": "sr-Latn", "ru": "ru", "uk": "uk", "en": "en"} {
		if got := lang.Tag(code).String(); got != want {
			t.Errorf("Tag(%s) = %s, want %s", code, got, want)
		}
	}
}
