package telegram

import (
	"strings"
	"unicode/utf8"
)

// maxText is the longest message Telegram takes, in UTF-16 code units.
const maxText = 4096

// split cuts text into messages of at most limit UTF-16 code units: at the
// last paragraph break that leaves the first part at least half full, else
// at a line break, else between words, else anywhere between characters.
func split(text string, limit int) []string {
	var parts []string
	for {
		text = strings.TrimLeft(text, " \n")
		end := fit(text, limit)
		if end == len(text) {
			break
		}
		if end == 0 { // a limit below one character: send it whole
			_, end = utf8.DecodeRuneInString(text)
		}
		cut := boundary(text[:end])
		if part := strings.TrimRight(text[:cut], " \n"); part != "" {
			parts = append(parts, part)
		}
		text = text[cut:]
	}
	if text = strings.TrimRight(text, " \n"); text != "" {
		parts = append(parts, text)
	}
	return parts
}

// fit returns how many bytes of text make at most limit UTF-16 code units,
// ending on a character boundary.
func fit(text string, limit int) int {
	units := 0
	for i, r := range text {
		n := 1
		if r >= 0x10000 {
			n = 2
		}
		if units+n > limit {
			return i
		}
		units += n
	}
	return len(text)
}

// boundary returns where to cut head, a prefix that fills a message. fit
// ended head on a character boundary, so cutting at its end is safe.
func boundary(head string) int {
	for _, sep := range []string{"\n\n", "\n", " "} {
		if i := strings.LastIndex(head, sep); i > 0 && i >= len(head)/2 {
			return i + len(sep)
		}
	}
	return len(head)
}
