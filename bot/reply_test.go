package bot

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

var sampleReply = Reply{
	Text:  "Did someone take your passport or ID card, or keep it \"safe\" for you?",
	Short: "Passport taken?",
	Choices: []Choice{
		{ID: "yes", Label: "Yes"}, {ID: "no", Label: "No"}, {ID: "menu", Label: "Back to the menu"},
		{ID: "erase", Label: "Forget me", Kind: ChoiceForget},
	},
	Lang: "en", Case: Waiting, Step: 3, Steps: 7,
}

func TestReplyRoundTrip(t *testing.T) {
	for _, r := range []Reply{{}, {Text: "Tere!"}, sampleReply, {Choices: []Choice{{}}}, {Text: "Hello", From: SpeakerCounsellor, Case: Held}} {
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Reply
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("round trip of %+v gave %+v", r, got)
		}
	}
	b, _ := sampleReply.MarshalBinary()
	speaker := append([]byte(nil), b...)
	speaker[len(b)-4] = 9 // no such speaker
	for _, bad := range [][]byte{nil, {}, {9}, b[:len(b)-1], append(b[:len(b):len(b)], 0), []byte(`{"t":"hi"}`), speaker} {
		r := Reply{Text: "kept?"}
		if err := r.UnmarshalBinary(bad); err != ErrBadReply || !reflect.DeepEqual(r, Reply{}) {
			t.Fatalf("%q decoded to %+v, %v", bad, r, err)
		}
	}
}

// TestReplyJSON: a reply's JSON names its speaker, case state and choice
// kinds in words, as the web chat's page reads them, and reads back.
func TestReplyJSON(t *testing.T) {
	r := sampleReply
	r.From = SpeakerCounsellor
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"from":"counsellor"`, `"case":"waiting"`, `"k":"forget"`, `"lang":"en"`, `"step":3`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	var back Reply
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, r) {
		t.Fatalf("%s read back as %+v, %v", b, back, err)
	}
	if err := json.Unmarshal([]byte(`{"t":"x","from":"Nina"}`), &back); err == nil {
		t.Fatal("a named speaker was accepted")
	}
}

// TestReplyVersion1 decodes a reply as the outbox held it before replies
// carried their language and speaker: an upgrade drains the old outbox.
func TestReplyVersion1(t *testing.T) {
	v1 := []byte{1, 2, 'H', 'i', 0, 1, 3, 'y', 'e', 's', 3, 'Y', 'e', 's'}
	var r Reply
	if err := r.UnmarshalBinary(v1); err != nil {
		t.Fatal(err)
	}
	want := Reply{Text: "Hi", Choices: []Choice{{ID: "yes", Label: "Yes"}}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("version 1 decoded to %+v, want %+v", r, want)
	}
}

// FuzzReplyDecode: no input crashes the decoder, and what it accepts
// encodes to bytes that decode to the same reply.
func FuzzReplyDecode(f *testing.F) {
	b, _ := sampleReply.MarshalBinary()
	f.Add(b)
	f.Add([]byte{replyVersion, 0, 0, 0})
	f.Add([]byte{replyVersion, 0, 0, 200, 1})
	f.Add([]byte{replyV1, 2, 'H', 'i', 0, 1, 1, 'y', 1, 'Y'})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Reply
		if r.UnmarshalBinary(b) != nil {
			return
		}
		again, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back Reply
		if err := back.UnmarshalBinary(again); err != nil || !reflect.DeepEqual(back, r) {
			t.Fatalf("%q decoded to %+v, which comes back as %+v, %v", b, r, back, err)
		}
	})
}

// BenchmarkReplyCodec compares the outbox's encoding of a reply with JSON,
// each way.
func BenchmarkReplyCodec(b *testing.B) {
	enc, _ := sampleReply.MarshalBinary()
	js, _ := json.Marshal(sampleReply)
	b.Run("binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e, _ := sampleReply.MarshalBinary()
			var r Reply
			if err := r.UnmarshalBinary(e); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(enc)), "bytes")
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e, _ := json.Marshal(sampleReply)
			var r Reply
			if err := json.Unmarshal(e, &r); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(js)), "bytes")
	})
}
