package lint

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestKeyLines(t *testing.T) {
	src := `# A comment with key = "value" in it.
top = "a"

[language]
name = "English" # a comment

[welcome]
hello = "Hello."
"hello.sms" = "Hi."
  indented = 'literal'
long = """
not_a_key = "inside a multi-line string"
[not.a.section]
"""
after = "b"
dotted.one = "one"
dotted.other = "other"
"quo\"ted" = "c"
'lit.eral' = "d"
inline = { one = "x", other = "y" }
closed = """on one line"""
next = "e"

[ menu . counted ]
one = "f"
other = "g"
`
	got := keyLines([]byte(src))
	want := map[string]int{
		"top":                  2,
		"language":             4,
		"language.name":        5,
		"welcome":              7,
		"welcome.hello":        8,
		"welcome.hello.sms":    9,
		"welcome.indented":     10,
		"welcome.long":         11,
		"welcome.after":        15,
		"welcome.dotted":       16,
		"welcome.dotted.one":   16,
		"welcome.dotted.other": 17,
		`welcome.quo"ted`:      18,
		"welcome.lit.eral":     19,
		"welcome.inline":       20,
		"welcome.closed":       21,
		"welcome.next":         22,
		"menu":                 24,
		"menu.counted":         24,
		"menu.counted.one":     25,
		"menu.counted.other":   26,
	}
	if !maps.Equal(got, want) {
		for _, k := range slices.Sorted(maps.Keys(got)) {
			if got[k] != want[k] {
				t.Errorf("%s: line %d, want %d", k, got[k], want[k])
			}
		}
		for k := range want {
			if _, ok := got[k]; !ok {
				t.Errorf("%s: not found, want line %d", k, want[k])
			}
		}
	}
}

func TestNeededForms(t *testing.T) {
	for lang, want := range map[string]string{
		"en": "one other",
		"et": "one other",
		"lv": "zero one other",
		"ru": "one few many other",
		"uk": "one few many other",
		"sr": "one few other",
		"ja": "other",
	} {
		if got := strings.Join(neededForms(lang), " "); got != want {
			t.Errorf("neededForms(%s) = %s, want %s", lang, got, want)
		}
	}
}

func TestParseSameAsEnglish(t *testing.T) {
	same, findings := ParseSameAsEnglish("same.yaml", []byte("# Names.\net: [language.name, words.ok]\nru:\n  - words.ok\n"))
	if len(findings) > 0 || !slices.Equal(same["et"], []string{"language.name", "words.ok"}) || !slices.Equal(same["ru"], []string{"words.ok"}) {
		t.Errorf("got %v, %v", same, findings)
	}
	if same, findings := ParseSameAsEnglish("same.yaml", nil); len(same) > 0 || len(findings) > 0 {
		t.Errorf("empty file: got %v, %v", same, findings)
	}
	for src, want := range map[string]string{
		"et: [a, b\nru: [c]\n": "same.yaml:1: did not find expected ',' or ']'",
		"et: [a]\nru: c\n":     "same.yaml:2: cannot unmarshal !!str `c` into []string",
		"et:\n  - [a]\n":       "same.yaml:2: cannot unmarshal !!seq into string",
	} {
		_, findings := ParseSameAsEnglish("same.yaml", []byte(src))
		if len(findings) != 1 || findings[0].String() != want {
			t.Errorf("ParseSameAsEnglish(%q) = %v, want %s", src, findings, want)
		}
	}
}
