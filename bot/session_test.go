package bot_test

import (
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
