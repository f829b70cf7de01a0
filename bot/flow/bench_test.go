package flow_test

import (
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
)

// BenchmarkStep measures one step on a typical node: a person in the middle
// of a flow answers a question by tapping a choice.
func BenchmarkStep(b *testing.B) {
	e := mini(b)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var s bot.Session
	s, _, _ = e.Step(s, bot.Inbound{Text: "hi", LangHints: []string{"en"}}, now)
	s, replies, _ := e.Step(s, bot.Inbound{Text: "1"}, now)
	in := bot.Inbound{Choice: replies[0].Choices[1].ID}
	b.ReportAllocs()
	for b.Loop() {
		s2 := s
		s2.Stack = append([]bot.Frame(nil), s.Stack...)
		e.Step(s2, in, now)
	}
}

// BenchmarkStepTyped measures a typed answer matched against the labels.
func BenchmarkStepTyped(b *testing.B) {
	e := mini(b)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var s bot.Session
	s, _, _ = e.Step(s, bot.Inbound{Text: "hi", LangHints: []string{"en"}}, now)
	s, _, _ = e.Step(s, bot.Inbound{Text: "1"}, now)
	in := bot.Inbound{Text: "my employer"}
	b.ReportAllocs()
	for b.Loop() {
		s2 := s
		s2.Stack = append([]bot.Frame(nil), s.Stack...)
		e.Step(s2, in, now)
	}
}

func typicalSession() bot.Session {
	return bot.Session{
		Lang:  "et",
		Last:  1767225600,
		Stack: []bot.Frame{{Flow: "selfcheck", Node: "q_wages"}},
		Vars:  map[string]string{"risk": "2", "documents": "yes", "debt": "yes", "country": "EE"},
	}
}

// BenchmarkSessionEncode measures encoding a session in the middle of the
// self-check and reports its size.
func BenchmarkSessionEncode(b *testing.B) {
	s := typicalSession()
	buf, _ := s.MarshalBinary()
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = s.AppendBinary(buf[:0])
	}
	b.ReportMetric(float64(len(buf)), "bytes/session")
}

// BenchmarkSessionDecode measures decoding the same session.
func BenchmarkSessionDecode(b *testing.B) {
	s := typicalSession()
	buf, _ := s.MarshalBinary()
	b.ReportAllocs()
	defer b.ReportMetric(float64(len(buf)), "bytes/session")
	for b.Loop() {
		var back bot.Session
		if err := back.UnmarshalBinary(buf); err != nil {
			b.Fatal(err)
		}
	}
}
