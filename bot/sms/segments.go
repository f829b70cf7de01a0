// Package sms knows how a text travels as SMS: which alphabet it needs and
// how many segments it takes, so that flows can be kept short enough and the
// SMS adapter can split and price messages.
package sms

import "unicode/utf16"

// The capacity of one segment: a single message holds more than a part of a
// concatenated one, whose header takes room.
const (
	gsmSingle  = 160 // septets
	gsmPart    = 153
	ucs2Single = 70 // UTF-16 code units
	ucs2Part   = 67
)

// MaxSegments is the longest a message should be: most phones join up to
// about three parts reliably, and every part is paid for.
const MaxSegments = 3

// Segments returns how many SMS segments text takes and whether it needs
// UCS-2. A text of GSM 03.38 characters only is sent in the 7-bit alphabet,
// where the extension table's characters (such as € and [) take two
// septets; any other character makes the whole text UCS-2, counted in UTF-16
// code units. Like a real encoder, it never splits an escaped character or a
// surrogate pair across two parts. An empty text takes no segment.
func Segments(text string) (n int, ucs2 bool) {
	if text == "" {
		return 0, false
	}
	size := septets
	for _, r := range text {
		if septets(r) == 0 {
			size, ucs2 = utf16.RuneLen, true
			break
		}
	}
	sizes := make([]int, 0, len(text))
	for _, r := range text {
		sizes = append(sizes, size(r))
	}
	if ucs2 {
		return count(sizes, ucs2Single, ucs2Part), true
	}
	return count(sizes, gsmSingle, gsmPart), false
}

// septets returns how many septets r takes in the GSM 7-bit alphabet: 1 for
// the default alphabet, 2 for the extension table, 0 when it has none.
func septets(r rune) int {
	switch {
	case gsmBasic(r):
		return 1
	case gsmExtension(r):
		return 2
	}
	return 0
}

// count packs characters of the given sizes into segments: one if they all
// fit in single, else as many parts of part as needed.
func count(sizes []int, single, part int) int {
	total := 0
	for _, s := range sizes {
		total += s
	}
	if total <= single {
		return 1
	}
	n, used := 1, 0
	for _, s := range sizes {
		if used+s > part {
			n++
			used = 0
		}
		used += s
	}
	return n
}

// gsmBasic reports whether r is in the GSM 03.38 default alphabet.
func gsmBasic(r rune) bool {
	switch {
	case 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z', '0' <= r && r <= '9':
		return true
	case r < 0x80:
		// Every printable ASCII character but the extension ones and `,
		// plus line feed and carriage return.
		switch r {
		case '\n', '\r', ' ', '!', '"', '#', '$', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
			':', ';', '<', '=', '>', '?', '@', '_':
			return true
		}
		return false
	}
	switch r {
	case '£', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', 'Ø', 'ø', 'Å', 'å',
		'Δ', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', 'Æ', 'æ', 'ß', 'É',
		'¤', '¡', 'Ä', 'Ö', 'Ñ', 'Ü', '§', '¿', 'ä', 'ö', 'ñ', 'ü', 'à':
		return true
	}
	return false
}

// gsmExtension reports whether r is in the GSM 03.38 extension table, sent
// as an escape and the character: two septets.
func gsmExtension(r rune) bool {
	switch r {
	case '\f', '^', '{', '}', '\\', '[', '~', ']', '|', '€':
		return true
	}
	return false
}
