package bot

import (
	"encoding/json"
	"reflect"
	"testing"
)

var sampleReply = Reply{
	Text:  "Did someone take your passport or ID card, or keep it \"safe\" for you?",
	Short: "Passport taken?",
	Choices: []Choice{
		{ID: "yes", Label: "Yes"}, {ID: "no", Label: "No"}, {ID: "menu", Label: "Back to the menu"},
	},
}

func TestReplyRoundTrip(t *testing.T) {
	for _, r := range []Reply{{}, {Text: "Tere!"}, sampleReply, {Choices: []Choice{{}}}} {
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
	for _, bad := range [][]byte{nil, {}, {9}, b[:len(b)-1], append(b[:len(b):len(b)], 0), []byte(`{"t":"hi"}`)} {
		r := Reply{Text: "kept?"}
		if err := r.UnmarshalBinary(bad); err != ErrBadReply || !reflect.DeepEqual(r, Reply{}) {
			t.Fatalf("%q decoded to %+v, %v", bad, r, err)
		}
	}
}

// FuzzReplyDecode: no input crashes the decoder, and what it accepts
// encodes to bytes that decode to the same reply.
func FuzzReplyDecode(f *testing.F) {
	b, _ := sampleReply.MarshalBinary()
	f.Add(b)
	f.Add([]byte{replyVersion, 0, 0, 0})
	f.Add([]byte{replyVersion, 0, 0, 200, 1})
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
