package flow_test

import (
	"os"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"  Help ME!! ":    "help me",
		"Помогите":        "pomogite",
		"Мне страшно.":    "mne strashno",
		"Jā, lūdzu":       "ja ludzu",
		"Šiandien ĮŽ":     "siandien iz",
		"Ђорђе, đak":      "djordje djak",
		"Забрали паспорт": "zabrali pasport",
		"Õnneks ÄRA":      "onneks ara",
		"1.":              "1",
		"":                "",
		"...":             "",
		"ne\u0301t":       "net",
		"помогите!!!мне":  "pomogite mne",
		"Допоможіть, будь ласка": "dopomozhit bud laska",
		"काम करो!":               "काम करो", // spacing vowel signs stay in the word
		"ஔ":                      "ஒ\u0bd7", // a letter NFD splits into a letter and a spacing mark
	} {
		if got := flow.Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzNormalize checks that any input normalises without panicking, to text
// that normalises to itself.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"help me", "Помогите", "\xff\xfe", "Ђорђе", "1."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := flow.Normalize(s)
		if again := flow.Normalize(n); again != n {
			t.Fatalf("Normalize is not stable: %q -> %q -> %q", s, n, again)
		}
	})
}

// FuzzStep sends any text, tap or start payload to the engine at any point of
// a conversation: it must never panic and always leave a session that
// encodes and decodes.
func FuzzStep(f *testing.F) {
	e := mini(f)
	f.Add("hi", "", "", uint8(0))
	f.Add("1", "menu/main/0", "school", uint8(3))
	f.Add("помогите", "quiz/q1/9", "", uint8(5))
	f.Add("/forget", "welcome/lang/xx", "", uint8(1))
	f.Fuzz(func(t *testing.T, text, choice, start string, steps uint8) {
		now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		var s bot.Session
		for _, said := range []string{"hi", "1", "2"}[:steps%4] {
			s, _, _ = e.Step(s, inbound(said, "", ""), now)
		}
		s, _, _ = e.Step(s, inbound(text, choice, start), now)
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back = s
		if err := back.UnmarshalBinary(b); err != nil {
			t.Fatalf("session does not decode: %v", err)
		}
	})
}

// FuzzLoad feeds any bytes to the flow loader as a flow file: it must return
// an error or a set, never panic, and Check must not panic either.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"menu.yaml", "quiz.yaml", "intake.yaml", "danger.yaml"} {
		src, err := os.ReadFile("testdata/mini/flows/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("id: x\nnodes: [1, 2]\n"))
	f.Add([]byte("id: x\nnodes:\n  a: {branch: [{if: {var: v}}]}\n"))
	global, err := os.ReadFile("testdata/mini/flows/commands.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		fsys := fstestFS(map[string][]byte{"commands.yaml": global, "x.yaml": src})
		set, err := flow.Load(fsys)
		if err != nil {
			return
		}
		set.Check()
	})
}
