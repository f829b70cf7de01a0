package flow

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/helpline/helpline/bot/translit"
)

// Normalize folds s for matching what a person types: lower case, no
// diacritics, Cyrillic written in Latin letters, and every run of anything
// but letters and digits turned into one space. "Помогите!" and "pomogite"
// both become "pomogite"; "Jā" becomes "ja".
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // drop leading separators
	for _, r := range s {
		if r < utf8.RuneSelf {
			switch {
			case 'A' <= r && r <= 'Z':
				r += 'a' - 'A'
			case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			default:
				if !space {
					b.WriteByte(' ')
					space = true
				}
				continue
			}
			b.WriteRune(r)
			space = false
			continue
		}
		r = unicode.ToLower(r)
		if lat, ok := translit.Latin(r); ok {
			if lat != "" { // the soft and hard signs spell as nothing
				b.WriteString(lat)
				space = false
			}
			continue
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		// A mark is part of its word: a diacritic (Mn) is dropped below, and
		// a spacing mark, such as the vowel signs of Indic scripts, stays.
		// NFD can split a letter into a letter and a spacing mark (Tamil ஔ);
		// written so, the mark must read the same when normalised again.
		wrote := false
		for _, d := range norm.NFD.String(string(r)) {
			if unicode.Is(unicode.Mn, d) {
				continue
			}
			if lat, ok := translit.Latin(d); ok {
				if lat == "" {
					continue
				}
				b.WriteString(lat)
			} else {
				b.WriteRune(d)
			}
			wrote = true
		}
		if wrote {
			space = false
		}
	}
	return strings.TrimSuffix(b.String(), " ")
}

// containsPhrase reports whether the normalised text holds the normalised
// phrase as whole words.
func containsPhrase(text, phrase string) bool {
	if phrase == "" {
		return false
	}
	for i := 0; ; {
		j := strings.Index(text[i:], phrase)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(phrase)
		if (j == 0 || text[j-1] == ' ') && (end == len(text) || text[end] == ' ') {
			return true
		}
		i = j + 1
	}
}
