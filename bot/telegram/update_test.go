package telegram

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// FuzzDecode feeds the update decoder arbitrary bodies, seeded with the
// real updates in testdata: it must never panic, and what it lets through
// must be well formed.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"update_id":1,"message":{"message_id":2,"chat":{"id":3,"type":"private"},"text":"/start@helpline_bot school"}}`))
	f.Add([]byte(`{"update_id":1,"my_chat_member":{"chat":{"id":3,"type":"private"},"new_chat_member":{"status":"kicked"}}}`))
	f.Add([]byte(`{"update_id":1,"message":null,"callback_query":{"id":"x","message":{"message_id":1,"chat":null},"data":"a/b/c"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := decode(body)
		if err != nil {
			return
		}
		switch ev.action {
		case ignore:
			if ev.reason == "" || strings.ContainsAny(ev.reason, " .:") {
				t.Fatalf("ignored update with reason %q: counters need a plain word", ev.reason)
			}
		case converse, blocked, unblocked:
			if _, err := strconv.ParseInt(ev.in.Address, 10, 64); err != nil || ev.chat == 0 {
				t.Fatalf("address %q of chat %d", ev.in.Address, ev.chat)
			}
			if ev.in.ID != "tg:"+strconv.FormatInt(ev.update, 10) {
				t.Fatalf("message ID %q for update %d", ev.in.ID, ev.update)
			}
			if ev.in.Start != "" && !validPayload.MatchString(ev.in.Start) {
				t.Fatalf("deep link payload %q", ev.in.Start)
			}
		}
		if ev.action == converse {
			if kind, _ := parseRef(ev.in.Ref); kind != refMessage && kind != refKeyboard {
				t.Fatalf("reference %q", ev.in.Ref)
			}
			if ev.in.Text == "" && ev.in.Choice == "" && !ev.in.Unsupported {
				t.Fatal("a message with nothing in it")
			}
		}
	})
}

func TestStartPayload(t *testing.T) {
	for text, want := range map[string]string{
		"/start":                            "",
		"/start school":                     "school",
		"/start@helpline_bot poster":        "poster",
		"/start  selfcheck ":                "selfcheck",
		"/start two words":                  "",
		"/started school":                   "",
		"start school":                      "",
		"/start " + strings.Repeat("a", 65): "",
	} {
		if got := startPayload(text); got != want {
			t.Errorf("startPayload(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestSplit(t *testing.T) {
	for name, tc := range map[string]struct {
		text  string
		limit int
		want  []string
	}{
		"short":       {"hello", 10, []string{"hello"}},
		"empty":       {"", 10, nil},
		"paragraphs":  {"one two\n\nthree four", 12, []string{"one two", "three four"}},
		"lines":       {"one two\nthree four", 12, []string{"one two", "three four"}},
		"words":       {"one two three four", 12, []string{"one two", "three four"}},
		"no spaces":   {"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		"emoji":       {"😀😀😀", 4, []string{"😀😀", "😀"}},
		"early break": {"a\n\nbcdef ghijk", 12, []string{"a\n\nbcdef", "ghijk"}},
	} {
		t.Run(name, func(t *testing.T) {
			got := split(tc.text, tc.limit)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Fatalf("split(%q, %d) = %q, want %q", tc.text, tc.limit, got, tc.want)
			}
		})
	}
}

// FuzzSplit checks that every part fits and is whole text, and that
// nothing but the whitespace at the cuts is lost.
func FuzzSplit(f *testing.F) {
	f.Add("Hello there.\n\nA second paragraph 😀 with words", 10)
	f.Add(strings.Repeat("Ъ", 50), 7)
	f.Fuzz(func(t *testing.T, text string, limit int) {
		if limit < 2 || limit > 5000 || !utf8.ValidString(text) {
			return
		}
		var kept strings.Builder
		for _, p := range split(text, limit) {
			if n := len(utf16.Encode([]rune(p))); n > limit || p == "" {
				t.Fatalf("part %q has %d units, limit %d", p, n, limit)
			}
			kept.WriteString(p)
		}
		strip := strings.NewReplacer(" ", "", "\n", "")
		if strip.Replace(kept.String()) != strip.Replace(text) {
			t.Fatalf("split lost text: %q from %q", kept.String(), text)
		}
	})
}
