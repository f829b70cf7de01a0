package bot_test

import (
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/helpline/helpline/bot"
)

func TestSessionRoundTrip(t *testing.T) {
	for _, s := range []bot.Session{
		{},
		{Lang: "et", Last: 1767225600, Stack: []bot.Frame{{Flow: "selfcheck", Node: "q_debt"}}, Vars: map[string]string{"risk": "2", "documents": "yes"}, Retries: 1},
		{Lang: "ru", Case: bot.OpenCase{Code: "K7Q-3MX", State: bot.Held}, Last: -5},
		{Lang: "et", Case: bot.OpenCase{Code: "K7Q-3MY", State: bot.Waiting}},
		{Lang: "xx", Stack: []bot.Frame{{Flow: "own_flow", Node: "yes"}}, Vars: map[string]string{"own": "no", "risk": "free text, with yes in it"}},
	} {
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back bot.Session
		if err := back.UnmarshalBinary(b); err != nil {
			t.Fatalf("decode %+v: %v", s, err)
		}
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip changed the session:\n%+v\n%+v", s, back)
		}
	}
}

func TestSessionRefusesBadBytes(t *testing.T) {
	good, _ := (&bot.Session{Lang: "en", Stack: []bot.Frame{{Flow: "menu", Node: "main"}}}).MarshalBinary()
	for _, b := range [][]byte{nil, {9}, good[:len(good)-1], append(append([]byte{}, good...), 0), {1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}} {
		var s bot.Session
		if err := s.UnmarshalBinary(b); err == nil {
			t.Errorf("decoded %x without error: %+v", b, s)
		}
	}
}

// FuzzSessionDecode checks that any bytes decode to an error or to a session
// that encodes back to the same bytes.
func FuzzSessionDecode(f *testing.F) {
	good, _ := (&bot.Session{Lang: "en", Stack: []bot.Frame{{Flow: "menu", Node: "main"}}, Vars: map[string]string{"a": "1"}}).MarshalBinary()
	f.Add(good)
	f.Add([]byte{1})
	f.Add([]byte{2, 0xc8, 0x01, 0, 0, 2, 'e', 'n', 0, 1, 4, 'm', 'e', 'n', 'u', 4, 'm', 'a', 'i', 'n', 0})
	f.Add([]byte{3, 0, 0, 0, 0xfe, 0x7f, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s bot.Session
		if s.UnmarshalBinary(b) != nil {
			return
		}
		again, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var s2 bot.Session
		if err := s2.UnmarshalBinary(again); err != nil || !reflect.DeepEqual(s, s2) {
			t.Fatalf("re-encoded session differs: %+v vs %+v (%v)", s, s2, err)
		}
	})
}

// TestSessionWordsKeepTheirPlace: a session stored today decodes the same
// tomorrow. The bytes below are a session in the middle of the self-check
// as this version writes it: a session word that moved in the list, or was
// removed, would make them decode to other names. Words are only ever
// added at the end of the list (bot/words.go).
func TestSessionWordsKeepTheirPlace(t *testing.T) {
	s := bot.Session{
		Lang: "en", Last: 1796182158, Stack: []bot.Frame{{Flow: "selfcheck", Node: "q_sex"}},
		Vars: map[string]string{
			"_alert": "1", "_risks": "not_free", "_safety": "shown", "debt": "skipped", "deceived": "not sure",
			"documents_kept": "no", "not_free": "yes", "note": "what are my rights", "risk": "1", "threats": "no",
		},
	}
	const stored = "039cc2fcb00d000028000148760a180a166a1e2268066e0466026a002625776861742061726520" +
		"6d7920726967687473240a6c02"
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(b); got != stored {
		t.Errorf("the session encodes as\n%s\nnot as before\n%s\nA session word moved, or the encoding changed without a new version.", got, stored)
	}
	raw, _ := hex.DecodeString(stored)
	var back bot.Session
	if err := back.UnmarshalBinary(raw); err != nil || !reflect.DeepEqual(back, s) {
		t.Fatalf("stored bytes decode to %+v (%v), want %+v", back, err, s)
	}
	if len(b) > 56 {
		t.Errorf("the session takes %d bytes, want at most 56: its names are session words", len(b))
	}
}

// TestSessionVersion2: a session an earlier version wrote, every name
// spelled out, still decodes.
func TestSessionVersion2(t *testing.T) {
	// Version 2, Last 100, no retries, no case, "en", no code, one frame
	// menu/main, one variable risk=1.
	v2 := []byte{2, 0xc8, 0x01, 0, 0, 2, 'e', 'n', 0, 1, 4, 'm', 'e', 'n', 'u', 4, 'm', 'a', 'i', 'n', 1, 4, 'r', 'i', 's', 'k', 1, '1'}
	var s bot.Session
	if err := s.UnmarshalBinary(v2); err != nil {
		t.Fatal(err)
	}
	want := bot.Session{Lang: "en", Last: 100, Stack: []bot.Frame{{Flow: "menu", Node: "main"}}, Vars: map[string]string{"risk": "1"}}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("version 2 decodes to %+v, want %+v", s, want)
	}
}
