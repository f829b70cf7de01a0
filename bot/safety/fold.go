package safety

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/helpline/helpline/bot/translit"
)

// boundary is the token that stands for the start or end of a message or a
// sentence; rules write it as $.
const boundary = "$"

// tokenize appends the folded words of text to dst, with a boundary token
// at the start, at the end, and after each sentence. buf holds the bytes of
// the words; the returned tokens point into it.
func tokenize(text string, buf []byte, dst []span) ([]byte, []span) {
	dst = append(dst, span{-1, -1})
	start := len(buf)
	word := func() {
		if len(buf) > start {
			buf = foldWord(buf, start)
			dst = append(dst, span{int32(start), int32(len(buf))})
		}
		start = len(buf)
	}
	sentence := func() {
		word()
		if last := dst[len(dst)-1]; last.from >= 0 {
			dst = append(dst, span{-1, -1})
		}
	}
	prevLetter := false
	for i, r := range text {
		switch {
		case r < utf8.RuneSelf && ('a' <= r && r <= 'z' || '0' <= r && r <= '9'):
			buf = append(buf, byte(r))
			prevLetter = true
			continue
		case r < utf8.RuneSelf && 'A' <= r && r <= 'Z':
			buf = append(buf, byte(r+'a'-'A'))
			prevLetter = true
			continue
		case isApostrophe(r):
			// Inside a word it is dropped: can't, b'yut.
			if prevLetter && i+utf8.RuneLen(r) < len(text) {
				next, _ := utf8.DecodeRuneInString(text[i+utf8.RuneLen(r):])
				if unicode.IsLetter(next) {
					continue
				}
			}
			word()
			prevLetter = false
			continue
		case r == '.' && i > 0 && '0' <= text[i-1] && text[i-1] <= '9':
			// An ordinal or a decimal, not a sentence's end: "9. stāvā",
			// "9. kattila", "2.5".
			word()
			prevLetter = false
			continue
		case r == '.' || r == '!' || r == '?' || r == '\n' || r == ';' || r == '…':
			sentence()
			prevLetter = false
			continue
		}
		if r < utf8.RuneSelf {
			word()
			prevLetter = false
			continue
		}
		r = unicode.ToLower(r)
		if lat, ok := translit.Latin(r); ok {
			buf = append(buf, lat...)
			prevLetter = true
			continue
		}
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
			// A spacing mark (an Indic vowel sign) is part of its word.
			word()
			prevLetter = false
			continue
		}
		buf = appendBase(buf, r)
		prevLetter = true
	}
	sentence()
	return buf, dst
}

func isApostrophe(r rune) bool {
	return r == '\'' || r == '’' || r == 'ʼ' || r == '`' || r == '´' || r == 'ʻ'
}

// appendBase appends r without its diacritics, spelt in Latin where the
// base letter has a Latin spelling.
func appendBase(buf []byte, r rune) []byte {
	var tmp [utf8.UTFMax]byte
	n := utf8.EncodeRune(tmp[:], r)
	var it norm.Iter
	it.Init(norm.NFD, tmp[:n])
	for !it.Done() {
		// A segment is a base letter with its marks: keep the letter.
		for _, d := range string(it.Next()) {
			switch lat, ok := translit.Latin(d); {
			case unicode.Is(unicode.Mn, d):
			case ok:
				buf = append(buf, lat...)
			default:
				buf = utf8.AppendRune(buf, d)
			}
		}
	}
	return buf
}

// foldWord rewrites buf[start:] in place to the word's matching key, and
// returns buf cut to the key's end. The key merges the ways one sound is
// spelt when Cyrillic is typed in Latin letters (kh and x are h; shch and
// sch are sh, and so is sht, as Bulgarian types щ; zh is z; ts and tz are
// c; j and y are i; yo, jo and io are e, as ё is; in Bulgarian chat, q is
// ya and 6 and 4 are sh and ch) and every run of one
// letter into one ("helppp", "pasport"). Lexicon words are folded the same
// way, so the key only ever compares with another key.
func foldWord(buf []byte, start int) []byte {
	w := buf[start:]
	if chat(w) {
		buf = append(buf[:start], unchat(w)...)
		w = buf[start:]
	}
	out := w[:0]
	for i := 0; i < len(w); i++ {
		c := w[i]
		rest := w[i+1:]
		switch {
		case c == 's' && hasPrefix(rest, "ht"): // щ typed the Bulgarian way: shte, ще
			i += 2
			out = append(out, 's', 'h')
			continue
		case c == 's' && hasPrefix(rest, "hch"):
			i += 3
			out = append(out, 's', 'h')
			continue
		case c == 's' && hasPrefix(rest, "ch"):
			i += 2
			out = append(out, 's', 'h')
			continue
		case c == 'k' && hasPrefix(rest, "h"), c == 'x':
			if c == 'k' {
				i++
			}
			c = 'h'
		case c == 'z' && hasPrefix(rest, "h"):
			i++
		case c == 't' && (hasPrefix(rest, "s") || hasPrefix(rest, "z")):
			c, i = 'c', i+1
		case c == 'j' || c == 'y':
			c = 'i'
			if hasPrefix(rest, "o") { // ё typed yo or jo: бьёт, bjot, b'yot
				c, i = 'e', i+1
			}
		case c == 'i' && hasPrefix(rest, "o"):
			c, i = 'e', i+1
		}
		out = append(out, c)
	}
	// One letter for every run of the same letter.
	k := 0
	for i := range out {
		if k > 0 && out[k-1] == out[i] {
			continue
		}
		out[k] = out[i]
		k++
	}
	return buf[:start+k]
}

// chat reports whether a word is typed in the Latin letters of Bulgarian
// chat, which spell я as q and ш and ч as 6 and 4 (obadq, 6te, 4ovek): a
// q, or a 6 or 4 in a word that has letters.
func chat(w []byte) bool {
	digit, letter := false, false
	for _, c := range w {
		switch {
		case c == 'q':
			return true
		case c == '6' || c == '4':
			digit = true
		case 'a' <= c && c <= 'z':
			letter = true
		}
	}
	return digit && letter
}

// unchat spells a word of Bulgarian chat as Cyrillic is typed in Latin
// letters: q is ya, 6 is sh and 4 is ch.
func unchat(w []byte) []byte {
	out := make([]byte, 0, len(w)+4)
	for _, c := range w {
		switch c {
		case 'q':
			out = append(out, 'y', 'a')
		case '6':
			out = append(out, 's', 'h')
		case '4':
			out = append(out, 'c', 'h')
		default:
			out = append(out, c)
		}
	}
	return out
}

func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

// within1 reports whether a and b are at most one edit apart: one letter
// added, dropped, changed, or two neighbours swapped.
func within1(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	switch len(b) - len(a) {
	case 0:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		if i == len(a) {
			return true
		}
		if a[i+1:] == b[i+1:] {
			return true // changed
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:] // swapped
	case 1:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		return a[i:] == b[i+1:]
	}
	return false
}
