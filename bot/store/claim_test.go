package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/helpline/helpline/bot/store"
)

// TestStaleAfterALaterReplyIsSent: an entry is stale once its person was
// sent a reply of a later commit, recorded by the removal that follows the
// send, in a commit or in DoneMany; never by an older one, never for a queue
// operation, and never in a session that is gone.
func TestStaleAfterALaterReplyIsSent(t *testing.T) {
	ctx := context.Background()
	st, rdb := newStore(t, store.Options{Partitions: 1})
	if err := st.EnsureGroups(ctx); err != nil {
		t.Fatal(err)
	}
	_, first, err := st.CommitClaim(ctx, commit("p1", "m1", 0, "s"), "me")
	if err != nil || len(first) != 1 || first[0].Seq != 1 {
		t.Fatalf("first commit: %+v %v, want one entry of sequence 1", first, err)
	}
	second := commit("p1", "m2", 1, "s")
	second.Out = append(second.Out, store.Entry{Channel: "case", Op: []byte("open")})
	_, later, err := st.CommitClaim(ctx, second, "me")
	if err != nil || len(later) != 2 || later[0].Seq != 2 || later[1].Seq != 0 {
		t.Fatalf("second commit: %+v %v, want a reply of sequence 2 and an operation", later, err)
	}
	all := []store.Message{first[0], later[0], later[1]}
	check := func(want ...bool) {
		t.Helper()
		got, err := st.Stale(ctx, all)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("stale %v %v, want %v", got, err, want)
		}
	}
	check(false, false, false)
	// Another person's commit removes the later reply as sent.
	other := commit("p2", "m3", 0, "s")
	other.Done = []store.Sent{{ID: later[0].ID, PID: "p1", Seq: later[0].Seq}, {ID: later[1].ID}}
	if o, err := st.Commit(ctx, other); o != store.Committed || err != nil {
		t.Fatalf("commit with finished entries: %v %v", o, err)
	}
	check(true, false, false)
	// The older one, sent late after all, does not move the mark back.
	if err := st.DoneMany(ctx, map[int][]store.Sent{0: {{ID: first[0].ID, PID: "p1", Seq: 1}}}); err != nil {
		t.Fatal(err)
	}
	check(true, false, false)
	if n, _ := rdb.XLen(ctx, t.Name()+":{0}:out").Result(); n != 1 {
		t.Fatalf("%d entries in the outbox, want p2's only", n)
	}
	// A reply sent to a person erased meanwhile leaves no session behind.
	if err := st.DoneMany(ctx, map[int][]store.Sent{0: {{ID: "1-1", PID: "gone", Seq: 9}}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.PersonKeys(ctx, "gone"); n != 0 {
		t.Fatalf("a removal made %d keys of an erased person", n)
	}
}

// TestOwnSentRecordedByOwnCommit: a reply sent to the committing person is
// recorded as the last one sent to them whatever the commit's outcome:
// committed, a duplicate, or a conflict.
func TestOwnSentRecordedByOwnCommit(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{Partitions: 1})
	if err := st.EnsureGroups(ctx); err != nil {
		t.Fatal(err)
	}
	for _, outcome := range []store.Outcome{store.Committed, store.Duplicate, store.Conflict} {
		pid := fmt.Sprint("p", outcome)
		var sent []store.Message
		version := int64(0)
		for _, m := range []string{"m1", "m2"} {
			// The commit also hands over what the earlier rounds left.
			_, msgs, err := st.CommitClaim(ctx, commit(pid, pid+m, version, "s"), "me")
			if err != nil || len(msgs) == 0 || msgs[len(msgs)-1].PID != pid {
				t.Fatalf("%v: commit %s: %v %v", outcome, m, msgs, err)
			}
			sent = append(sent, msgs[len(msgs)-1])
			version = sent[len(sent)-1].Seq
		}
		c := commit(pid, pid+"m3", version, "s")
		switch outcome {
		case store.Duplicate:
			c.MsgID = pid + "m2"
		case store.Conflict:
			c.Version = version - 1
		}
		c.Done = []store.Sent{{ID: sent[1].ID, PID: pid, Seq: sent[1].Seq}}
		if o, err := st.Commit(ctx, c); o != outcome || err != nil {
			t.Fatalf("commit: %v %v, want %v", o, err, outcome)
		}
		got, err := st.Stale(ctx, sent)
		if err != nil || !slices.Equal(got, []bool{true, false}) {
			t.Fatalf("%v: stale %v %v, want the first reply stale after the second was sent", outcome, got, err)
		}
		if c.MsgID = pid + "m4"; outcome == store.Conflict {
			// The conflict left the session at the version it had.
			c.Version, c.Done = version, nil
			if o, err := st.Commit(ctx, c); o != store.Committed || err != nil {
				t.Fatalf("commit after the conflict: %v %v", o, err)
			}
		}
	}
}

// TestTakeOverADeadConsumer: what a consumer holds can be claimed from it by
// name, by one claimer only; a consumer that holds nothing can be retired
// from the groups, one that holds something cannot. A heartbeat says who is
// alive.
func TestTakeOverADeadConsumer(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{Partitions: 2})
	if err := st.EnsureGroups(ctx); err != nil {
		t.Fatal(err)
	}
	var held []store.Message
	for i, pid := range []string{"a", "b", "c", "d", "e", "f"} {
		_, msgs, err := st.CommitClaim(ctx, commit(pid, "m"+pid, 0, "s"), "dead")
		if err != nil || len(msgs) != 1 {
			t.Fatalf("commit %d: %v %v", i, msgs, err)
		}
		held = append(held, msgs...)
	}
	if err := st.Beat(ctx, "live", time.Minute); err != nil {
		t.Fatal(err)
	}
	alive, err := st.Alive(ctx, []string{"dead", "live"})
	if err != nil || alive["dead"] || !alive["live"] {
		t.Fatalf("alive %v %v", alive, err)
	}
	holders, err := st.Holders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	for _, cs := range holders {
		total += cs["dead"]
	}
	if total != int64(len(held)) {
		t.Fatalf("holders %v, want dead holding %d", holders, len(held))
	}
	if gone, err := st.Retire(ctx, "dead"); gone || err != nil {
		t.Fatalf("a consumer holding entries was retired: %v %v", gone, err)
	}
	time.Sleep(5 * time.Millisecond)
	var got []store.Message
	for p := range st.Partitions() {
		msgs, err := st.ClaimFrom(ctx, p, "dead", "live", time.Millisecond, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Deliveries != 2 || m.Seq != 1 {
				t.Fatalf("claimed %+v, want a second delivery of sequence 1", m)
			}
		}
		got = append(got, msgs...)
		if again, _ := st.ClaimFrom(ctx, p, "live", "third", time.Second, 10, nil); len(again) != 0 {
			t.Fatalf("an entry claimed a moment ago was claimed again: %v", again)
		}
	}
	if len(got) != len(held) {
		t.Fatalf("claimed %d entries, want %d", len(got), len(held))
	}
	if gone, err := st.Retire(ctx, "dead"); !gone || err != nil {
		t.Fatalf("a consumer holding nothing was not retired: %v %v", gone, err)
	}
	names, err := st.Consumers(ctx)
	if err != nil || slices.Contains(names, "dead") || !slices.Contains(names, "live") {
		t.Fatalf("consumers %v %v", names, err)
	}
	if err := st.Quit(ctx, "live"); err != nil {
		t.Fatal(err)
	}
	if alive, _ := st.Alive(ctx, []string{"live"}); alive["live"] {
		t.Fatal("a replica that quit is alive")
	}
}
