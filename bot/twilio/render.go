package twilio

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/helpline/helpline/bot"
)

// maxBody is the longest body Twilio takes in one message, in characters
// (UTF-16 code units, as Twilio counts them). Up to it, Twilio splits the
// body into SMS segments itself and the phone joins them again.
const maxBody = 1600

// Bodies returns the messages that carry r on ch, in order: on SMS the
// reply's shorter SMS variant when the locale has one; the choices as a
// numbered list under the text ("1. Yes"), which the person answers with
// the number or the words; and a body longer than Twilio takes split at
// word boundaries.
func Bodies(r bot.Reply, ch bot.Channel) []string {
	text := r.Text
	if ch == bot.SMS && r.Short != "" {
		text = r.Short
	}
	if len(r.Choices) > 0 {
		var b strings.Builder
		b.WriteString(text)
		for i, c := range r.Choices {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(strconv.Itoa(i + 1))
			b.WriteString(". ")
			b.WriteString(c.Label)
		}
		text = b.String()
	}
	return split(text, maxBody)
}

// split cuts text into parts of at most limit characters, each ending at a
// space or a line break where there is one.
func split(text string, limit int) []string {
	var parts []string
	for units(text) > limit {
		cut := cutAt(text, limit)
		if part := strings.TrimRightFunc(text[:cut], unicode.IsSpace); part != "" {
			parts = append(parts, part)
		}
		text = strings.TrimLeftFunc(text[cut:], unicode.IsSpace)
	}
	if text != "" {
		parts = append(parts, text)
	}
	return parts
}

// cutAt returns where to cut text so that the part before holds at most
// limit characters: at the last white space that fits, else at the last
// character that fits.
func cutAt(text string, limit int) int {
	n, space, end := 0, 0, 0
	for i, r := range text {
		n += utf16.RuneLen(r)
		if n > limit {
			break
		}
		end = i + utf8.RuneLen(r)
		if unicode.IsSpace(r) && i > 0 {
			space = i
		}
	}
	if space > 0 {
		return space
	}
	return end
}

// units counts text in UTF-16 code units.
func units(text string) int {
	n := 0
	for _, r := range text {
		n += utf16.RuneLen(r)
	}
	return n
}
