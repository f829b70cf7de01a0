package sms

import (
	"strings"
	"testing"
)

func TestSegments(t *testing.T) {
	tests := []struct {
		name string
		text string
		n    int
		ucs2 bool
	}{
		{"empty", "", 0, false},
		{"short", "Hello. This chat is anonymous.", 1, false},
		{"gsm single full", strings.Repeat("a", 160), 1, false},
		{"gsm two parts", strings.Repeat("a", 161), 2, false},
		{"gsm two parts full", strings.Repeat("a", 306), 2, false},
		{"gsm three parts", strings.Repeat("a", 307), 3, false},
		{"gsm accents of the default alphabet", "Zürich, Malmö, Århus, España: 112!", 1, false},
		// Each extension character takes two septets: 80 euro signs fill one
		// message, 81 do not.
		{"extension fills single", strings.Repeat("€", 80), 1, false},
		{"extension over single", strings.Repeat("€", 81), 2, false},
		{"extension mixed", "{menu} [help] ~ ^ \\ | €", 1, false},
		// 306 septets would fit two parts, but the € cannot be split after
		// the 152nd: it starts the second part, and the last letter needs a
		// third.
		{"escape not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152), 3, false},
		{"escape fills part exactly", strings.Repeat("a", 151) + "€" + strings.Repeat("a", 153), 2, false},
		{"cyrillic", "Помогите, меня заперли.", 1, true},
		{"cyrillic single full", strings.Repeat("я", 70), 1, true},
		{"cyrillic two parts", strings.Repeat("я", 71), 2, true},
		{"cyrillic three parts", strings.Repeat("я", 135), 3, true},
		{"one letter makes it ucs2", strings.Repeat("a", 100) + "õ", 2, true},
		{"estonian", "Kas sul on praegu turvaline kirjutada?", 1, false},
		{"estonian with õ", "Võid selle vestluse igal ajal kustutada.", 1, true},
		{"backtick is not gsm", "`", 1, true},
		// An emoji is two UTF-16 code units, and a pair is never split: 134
		// code units would fit two parts, but the pair starts the second
		// part after 66 letters, and the last letter needs a third.
		{"emoji fills single", strings.Repeat("🙂", 35), 1, true},
		{"emoji pair not split", strings.Repeat("a", 66) + "🙂" + strings.Repeat("a", 66), 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ucs2 := Segments(tt.text)
			if n != tt.n || ucs2 != tt.ucs2 {
				t.Errorf("Segments(%q) = %d, %v; want %d, %v", tt.text, n, ucs2, tt.n, tt.ucs2)
			}
		})
	}
}
