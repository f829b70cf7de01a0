package twilio

import (
	"reflect"
	"strings"
	"testing"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/sms"
)

func TestBodiesNumberTheChoices(t *testing.T) {
	r := bot.Reply{Text: "Is it safe for you to write now?", Choices: []bot.Choice{{ID: "a", Label: "Yes, it is safe"}, {ID: "b", Label: "No, not now"}}}
	want := "Is it safe for you to write now?\n1. Yes, it is safe\n2. No, not now"
	if got := Bodies(r, bot.SMS); !reflect.DeepEqual(got, []string{want}) {
		t.Fatalf("%q", got)
	}
}

func TestBodiesShortVariantOnSMSOnly(t *testing.T) {
	r := bot.Reply{Text: "The long text.", Short: "Short."}
	if got := Bodies(r, bot.SMS); got[0] != "Short." {
		t.Fatalf("SMS: %q", got)
	}
	if got := Bodies(r, bot.WhatsApp); got[0] != "The long text." {
		t.Fatalf("WhatsApp: %q", got)
	}
	if got := Bodies(bot.Reply{}, bot.SMS); len(got) != 0 {
		t.Fatalf("an empty reply is no message: %q", got)
	}
}

// TestCyrillicSegments counts a Russian reply the way the network does: one
// Cyrillic letter makes the whole message UCS-2, 70 characters in one
// segment and 67 in each part of a longer one. The same reply in Latin
// letters fits one GSM-7 segment of 160.
func TestCyrillicSegments(t *testing.T) {
	choices := []bot.Choice{{ID: "y", Label: "Да"}, {ID: "n", Label: "Нет"}}
	for _, c := range []struct {
		text string
		n    int
		ucs2 bool
	}{
		// 60 letters, then "\n1. Да\n2. Нет": 73 characters.
		{strings.Repeat("ж", 60), 2, true},
		// 56 letters: 69 characters, one segment.
		{strings.Repeat("ж", 56), 1, true},
		// 140 letters and the list: 153 characters, three parts of 67.
		{strings.Repeat("ж", 140), 3, true},
	} {
		body := Bodies(bot.Reply{Text: c.text, Choices: choices}, bot.SMS)[0]
		if n, ucs2 := sms.Segments(body); n != c.n || ucs2 != c.ucs2 {
			t.Errorf("%d characters: %d segments (UCS-2 %v), want %d (%v)", len([]rune(body)), n, ucs2, c.n, c.ucs2)
		}
	}
	latin := Bodies(bot.Reply{Text: strings.Repeat("z", 60), Choices: []bot.Choice{{Label: "Da"}, {Label: "Net"}}}, bot.SMS)[0]
	if n, ucs2 := sms.Segments(latin); n != 1 || ucs2 {
		t.Errorf("Latin: %d segments, UCS-2 %v", n, ucs2)
	}
}

// TestSplitAtWordBoundaries cuts a body longer than Twilio takes into parts
// that each fit, at spaces, losing no word.
func TestSplitAtWordBoundaries(t *testing.T) {
	word := "слово "
	text := strings.TrimSpace(strings.Repeat(word, 700)) // 4199 characters
	parts := Bodies(bot.Reply{Text: text}, bot.WhatsApp)
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	for _, p := range parts {
		if units(p) > maxBody || strings.HasPrefix(p, " ") || strings.HasSuffix(p, " ") || strings.HasSuffix(p, "сло") {
			t.Fatalf("part of %d characters: %q...%q", units(p), p[:12], p[len(p)-12:])
		}
	}
	if strings.Join(parts, " ") != text {
		t.Fatal("the parts do not make the text again")
	}
	// A text with no space at all is cut where the limit falls.
	if parts := split(strings.Repeat("x", 3500), maxBody); len(parts) != 3 || len(parts[0]) != maxBody {
		t.Fatalf("%d parts", len(parts))
	}
	// An emoji counts two and is never cut in half.
	if parts := split(strings.Repeat("😀", 900), maxBody); len(parts) != 2 || units(parts[0]) != maxBody {
		t.Fatalf("emoji: %d parts", len(parts))
	}
}
