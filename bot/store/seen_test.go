package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/helpline/helpline/bot/store"
)

func numbered(pid, msg string, bit int, version int64, session string) store.Commit {
	c := commit(pid, msg, version, session)
	c.Seen = &store.SeenBit{Window: 9, Bit: bit}
	return c
}

// TestSeenBits marks numbered messages by a bit: a message redelivered is a
// duplicate, one that lost to a conflict is not, another bit is another
// message, and an erase leaves the bits, which outlive the person as the
// marks do, for the dedupe TTL.
func TestSeenBits(t *testing.T) {
	ctx := context.Background()
	st, rdb := newStore(t, store.Options{DedupeTTL: time.Hour})
	if got, err := st.Commit(ctx, numbered("p1", "m1", 4095, 0, "s1")); err != nil || got != store.Committed {
		t.Fatalf("first commit: %v %v", got, err)
	}
	if got, _ := st.Commit(ctx, numbered("p1", "m1", 4095, 1, "again")); got != store.Duplicate {
		t.Fatalf("the same message again: %v, want Duplicate", got)
	}
	if got, _ := st.Commit(ctx, numbered("p1", "m2", 0, 0, "stale")); got != store.Conflict {
		t.Fatalf("a commit at an old version: %v, want Conflict", got)
	}
	if got, _ := st.Commit(ctx, numbered("p1", "m2", 0, 1, "s2")); got != store.Committed {
		t.Fatalf("the message that lost to a conflict, read again: %v, want Committed", got)
	}
	erase := numbered("p1", "m3", 17, 2, "")
	erase.Session = nil
	if got, _ := st.Commit(ctx, erase); got != store.Committed {
		t.Fatalf("erase: %v", got)
	}
	if n, _ := st.PersonKeys(ctx, "p1"); n != 0 {
		t.Fatalf("after erase the person has %d keys, want 0", n)
	}
	for _, bit := range []int{4095, 0, 17} {
		if got, _ := st.Commit(ctx, numbered("p1", "mx", bit, 0, "s")); got != store.Duplicate {
			t.Fatalf("bit %d after the erase: %v, want Duplicate", bit, got)
		}
	}
	// The bitmap is one whole window, with the marks' lifetime, and holds
	// nothing but bits: no mark was added.
	key := fmt.Sprintf("%s:{%d}:dd:9", t.Name(), st.Partition("p1"))
	if n := rdb.StrLen(ctx, key).Val(); n != 512 {
		t.Fatalf("bitmap of %d bytes, want 512", n)
	}
	if n := rdb.BitCount(ctx, key, nil).Val(); n != 3 {
		t.Fatalf("%d bits set, want 3", n)
	}
	if ttl := rdb.TTL(ctx, key).Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("bitmap TTL %v, want the dedupe TTL", ttl)
	}
	if n := rdb.ZCard(ctx, fmt.Sprintf("%s:{%d}:dd", t.Name(), st.Partition("p1"))).Val(); n != 0 {
		t.Fatalf("%d marks added beside the bits", n)
	}
}

// TestSeenBitHonoursOlderMarks: a numbered message an older version marked
// in the set of marks, redelivered after the upgrade, is still a
// duplicate.
func TestSeenBitHonoursOlderMarks(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{})
	if got, _ := st.Commit(ctx, commit("p1", "m1", 0, "s1")); got != store.Committed {
		t.Fatalf("commit as an older version: %v", got)
	}
	if got, _ := st.Commit(ctx, numbered("p1", "m1", 5, 1, "again")); got != store.Duplicate {
		t.Fatalf("the same message, marked by a bit now: %v, want Duplicate", got)
	}
	if got, _ := st.Commit(ctx, numbered("p1", "m2", 5, 1, "s2")); got != store.Committed {
		t.Fatalf("a new message: %v, want Committed (the bit was not taken by the duplicate)", got)
	}
}
