package telegram

import (
	"slices"
	"testing"
)

// TestTrailEncoding: a trail decodes to its IDs in order, once each, with
// their times, in about two bytes a message; damaged bytes are refused.
func TestTrailEncoding(t *testing.T) {
	in := []sent{{id: 12, at: 1_800_000_000}, {id: 10, at: 1_799_999_990}, {id: 11, at: 1_799_999_995}, {id: 12, at: 1_800_000_000}, {id: 300, at: 1_800_000_600}}
	b := encodeTrail(slices.Clone(in))
	got, err := decodeTrail(b)
	want := []sent{in[1], in[2], in[0], in[4]}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("decoded %v, %v; want %v", got, err, want)
	}
	if len(b) > 2+5+5+2*len(want)+3 {
		t.Fatalf("%d bytes for %d messages", len(b), len(want))
	}
	for i := range b {
		if _, err := decodeTrail(b[:i]); err == nil {
			t.Fatalf("%d of %d bytes decoded", i, len(b))
		}
	}
	if _, err := decodeTrail(append(slices.Clone(b), 0)); err == nil {
		t.Fatal("a trail with bytes after it decoded")
	}
}
