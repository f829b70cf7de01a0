package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline/helpline/bot/store"
	"github.com/helpline/helpline/bot/store/redistest"
)

var server *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &server) }

// newStore gives each test its own key prefix on the shared server.
func newStore(t testing.TB, opts store.Options) (*store.Store, *redis.Client) {
	t.Helper()
	rdb := server.Client()
	t.Cleanup(func() { rdb.Close() })
	opts.Prefix = strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	if opts.Partitions == 0 {
		opts.Partitions = 4
	}
	return store.New(rdb, opts), rdb
}

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func commit(pid, msg string, version int64, session string) store.Commit {
	return store.Commit{
		PID: pid, Version: version, Session: []byte(session), Address: []byte("sealed"), MsgID: msg, Now: now,
		Out:    []store.Entry{{Channel: "web", Reply: []byte(`{"t":"hi"}`)}},
		Counts: []string{"in.web"},
	}
}

func TestCommitDedupeAndVersion(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{})
	if got, err := st.Commit(ctx, commit("p1", "m1", 0, "s1")); err != nil || got != store.Committed {
		t.Fatalf("first commit: %v %v", got, err)
	}
	if got, _ := st.Commit(ctx, commit("p1", "m1", 1, "s1 again")); got != store.Duplicate {
		t.Fatalf("the same message again: %v, want Duplicate", got)
	}
	if got, _ := st.Commit(ctx, commit("p1", "m2", 0, "stale")); got != store.Conflict {
		t.Fatalf("a commit at an old version: %v, want Conflict", got)
	}
	rec, err := st.Load(ctx, "p1")
	if err != nil || string(rec.Session) != "s1" || rec.Version != 1 || string(rec.Address) != "sealed" {
		t.Fatalf("load: %+v %v", rec, err)
	}
	if got, _ := st.Commit(ctx, commit("p1", "m2", 1, "s2")); got != store.Committed {
		t.Fatalf("commit at the current version: %v", got)
	}
	stats, err := st.Stats(ctx, now)
	if err != nil || stats["in.web"] != 2 {
		t.Fatalf("counters %v %v, want in.web=2 (the duplicate and the conflict add nothing)", stats, err)
	}
}

// TestDedupeMarksTrimmed keeps the marks of messages seen to those of the
// last TTL, give or take the sixteen commits between two trims; within the
// TTL a message is still known.
func TestDedupeMarksTrimmed(t *testing.T) {
	ctx := context.Background()
	st, rdb := newStore(t, store.Options{DedupeTTL: time.Minute})
	for i := range 20 { // an hour ago
		c := commit("p1", fmt.Sprintf("old%d", i), int64(i), "s")
		c.Now = now.Add(-time.Hour)
		if got, err := st.Commit(ctx, c); got != store.Committed || err != nil {
			t.Fatalf("commit %d: %v %v", i, got, err)
		}
	}
	for i := range 20 {
		c := commit("p1", fmt.Sprintf("new%d", i), int64(20+i), "s")
		if got, err := st.Commit(ctx, c); got != store.Committed || err != nil {
			t.Fatalf("commit %d: %v %v", 20+i, got, err)
		}
	}
	keys, err := rdb.Keys(ctx, t.Name()+"*:dd").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("dedupe keys %v %v", keys, err)
	}
	marks, err := rdb.ZRange(ctx, keys[0], 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range marks {
		if strings.HasPrefix(m, "old") {
			t.Errorf("mark %s outlived the TTL: %v", m, marks)
		}
	}
	if len(marks) < 20 {
		t.Errorf("%d marks left, want the 20 of the last minute: %v", len(marks), marks)
	}
	if got, _ := st.Commit(ctx, commit("p1", "new3", 40, "s")); got != store.Duplicate {
		t.Fatalf("a message of the last minute again: %v, want Duplicate", got)
	}
}

func TestCommitSetsLifetimes(t *testing.T) {
	ctx := context.Background()
	st, rdb := newStore(t, store.Options{SessionTTL: time.Hour, DedupeTTL: time.Minute})
	st.Commit(ctx, commit("p1", "m1", 0, "s"))
	keys, err := rdb.Keys(ctx, t.Name()+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{":s:p1": time.Hour, ":dd": time.Minute, ":st:20260501": 400 * 24 * time.Hour}
	found := 0
	for _, k := range keys {
		for suffix, ttl := range want {
			if strings.HasSuffix(k, suffix) {
				found++
				got := rdb.TTL(ctx, k).Val()
				if got <= 0 || got > ttl || got < ttl-5*time.Second {
					t.Errorf("%s lives %v, want %v", k, got, ttl)
				}
			}
		}
	}
	if found != len(want) {
		t.Fatalf("keys %v: want one of each of %v", keys, want)
	}
}

func TestEraseLeavesNoKeyOfThePerson(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{})
	st.Commit(ctx, commit("p1", "m1", 0, "s"))
	if err := st.Deliver(ctx, "p1", []byte("reply"), false); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.PersonKeys(ctx, "p1"); n != 2 {
		t.Fatalf("before erase the person has %d keys (session, mailbox), want 2", n)
	}
	erase := commit("p1", "m2", 1, "")
	erase.Session = nil
	erase.Out[0].Final = true
	if got, err := st.Commit(ctx, erase); got != store.Committed || err != nil {
		t.Fatalf("erase: %v %v", got, err)
	}
	if n, _ := st.PersonKeys(ctx, "p1"); n != 0 {
		t.Fatalf("after erase the person has %d keys, want 0", n)
	}
	if rec, _ := st.Load(ctx, "p1"); rec.Session != nil || rec.Version != 0 {
		t.Fatalf("after erase a session loads: %+v", rec)
	}
	// A provider's redelivery of a message from before the erase changes
	// nothing and sends nothing.
	if got, _ := st.Commit(ctx, commit("p1", "m1", 0, "s")); got != store.Duplicate {
		t.Fatalf("a message from before the erase, redelivered: %v, want Duplicate", got)
	}
}

// TestConcurrentCommitsApplyEachMessageOnce has many goroutines commit
// messages of one person at once, each reading, "stepping" (appending its
// message to the session) and retrying on conflict: every message must end
// up in the session exactly once.
func TestConcurrentCommitsApplyEachMessageOnce(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{})
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				msg := fmt.Sprintf("<%d.%d>", w, i)
				for {
					rec, err := st.Load(ctx, "p1")
					if err != nil {
						t.Error(err)
						return
					}
					c := commit("p1", msg, rec.Version, string(rec.Session)+msg)
					got, err := st.Commit(ctx, c)
					if err != nil {
						t.Error(err)
						return
					}
					if got != store.Conflict {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	rec, _ := st.Load(ctx, "p1")
	for w := range writers {
		for i := range each {
			if n := strings.Count(string(rec.Session), fmt.Sprintf("<%d.%d>", w, i)); n != 1 {
				t.Fatalf("message <%d.%d> applied %d times", w, i, n)
			}
		}
	}
	if rec.Version != writers*each {
		t.Fatalf("version %d, want %d", rec.Version, writers*each)
	}
}

func TestOutboxSurvivesADeadConsumer(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{Partitions: 1})
	if err := st.EnsureGroups(ctx); err != nil {
		t.Fatal(err)
	}
	c := commit("p1", "m1", 0, "s")
	c.Out = append(c.Out, store.Entry{Channel: "web", Reply: []byte(`{"t":"second"}`)})
	st.Commit(ctx, c)
	got, err := st.ReadOutbox(ctx, 0, "dies", 10, time.Millisecond)
	if err != nil || len(got) != 2 || got[0].PID != "p1" || string(got[1].Reply) != `{"t":"second"}` {
		t.Fatalf("read: %+v %v", got, err)
	}
	// The first consumer sends one entry and dies before the second.
	if err := st.Done(ctx, 0, got[0].ID); err != nil {
		t.Fatal(err)
	}
	if again, _ := st.ReadOutbox(ctx, 0, "lives", 10, time.Millisecond); len(again) != 0 {
		t.Fatalf("a pending entry was handed out again as new: %+v", again)
	}
	claimed, err := st.ClaimOutbox(ctx, 0, "lives", 0, 10)
	if err != nil || len(claimed) != 1 || claimed[0].ID != got[1].ID || claimed[0].Deliveries != 2 {
		t.Fatalf("claim: %+v %v", claimed, err)
	}
	st.Done(ctx, 0, claimed[0].ID)
	if left, _ := st.ClaimOutbox(ctx, 0, "lives", 0, 10); len(left) != 0 {
		t.Fatalf("entries left after both were done: %+v", left)
	}
}

func TestMailbox(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{})
	notesCh, stop := st.Notes(ctx)
	defer stop()
	st.Deliver(ctx, "p1", []byte("one"), false)
	st.Deliver(ctx, "p1", []byte("two"), false)
	st.Deliver(ctx, "p1", []byte("bye"), true)
	var notes []string
	for range 3 {
		select {
		case n := <-notesCh:
			notes = append(notes, n)
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d notes came", len(notes))
		}
	}
	if notes[0] != "p1" || notes[2] != "p1 bye" {
		t.Fatalf("notes %q", notes)
	}
	all, _ := st.Mailbox(ctx, "p1", "")
	if len(all) != 2 || string(all[1].Payload) != "two" {
		t.Fatalf("mailbox %+v: the final reply must not be kept", all)
	}
	after, _ := st.Mailbox(ctx, "p1", all[0].ID)
	if len(after) != 1 || string(after[0].Payload) != "two" {
		t.Fatalf("after the first: %+v", after)
	}
	if pid, final := store.ParseWebNote("p1 bye"); pid != "p1" || string(final) != "bye" {
		t.Fatalf("ParseWebNote: %q %q", pid, final)
	}
}

func TestStoppedSurvivesErase(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{})
	if err := st.SetStopped(ctx, "p1", true); err != nil {
		t.Fatal(err)
	}
	erase := commit("p1", "m1", 0, "")
	erase.Session = nil
	st.Commit(ctx, erase)
	if stopped, err := st.Stopped(ctx, "p1"); !stopped || err != nil {
		t.Fatalf("stopped %v %v after erase, want true", stopped, err)
	}
	st.SetStopped(ctx, "p1", false)
	if stopped, _ := st.Stopped(ctx, "p1"); stopped {
		t.Fatal("the stop was not lifted")
	}
}

// TestCommitClaimHandsTheEntriesToTheCommitter: the entries a commit adds
// come back to the committing replica, pending for it, and no reader gets
// them as new.
func TestCommitClaimHandsTheEntriesToTheCommitter(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{Partitions: 1})
	// Before any group exists, a commit still commits and claims nothing.
	if got, msgs, err := st.CommitClaim(ctx, commit("p0", "m0", 0, "s"), "me"); got != store.Committed || len(msgs) != 0 || err != nil {
		t.Fatalf("commit without a group: %v %v %v", got, msgs, err)
	}
	if err := st.EnsureGroups(ctx); err != nil {
		t.Fatal(err)
	}
	got, msgs, err := st.CommitClaim(ctx, commit("p1", "m1", 0, "s"), "me")
	if err != nil || got != store.Committed {
		t.Fatalf("commit: %v %v", got, err)
	}
	// The entry of p0, left for a reader, comes along: it is the oldest.
	if len(msgs) != 2 || msgs[0].PID != "p0" || msgs[1].PID != "p1" || string(msgs[1].Reply) != `{"t":"hi"}` || string(msgs[1].Address) != "sealed" {
		t.Fatalf("claimed %+v", msgs)
	}
	if others, _ := st.ReadOutbox(ctx, 0, "reader", 10, time.Millisecond); len(others) != 0 {
		t.Fatalf("a reader got claimed entries as new: %+v", others)
	}
	if dup, msgs, _ := st.CommitClaim(ctx, commit("p1", "m1", 1, "s"), "me"); dup != store.Duplicate || msgs != nil {
		t.Fatalf("a duplicate claims nothing: %v %v", dup, msgs)
	}
	st.Done(ctx, 0, msgs[0].ID, msgs[1].ID)
	if left, _ := st.ClaimOutbox(ctx, 0, "x", 0, 10); len(left) != 0 {
		t.Fatalf("entries left after they were done: %+v", left)
	}
}

// TestCommitRemovesFinishedEntries: the entries a commit lists as done leave
// the outbox, pending list and stream, whatever the commit's outcome.
func TestCommitRemovesFinishedEntries(t *testing.T) {
	ctx := context.Background()
	st, rdb := newStore(t, store.Options{Partitions: 1})
	if err := st.EnsureGroups(ctx); err != nil {
		t.Fatal(err)
	}
	outbox := t.Name() + ":{0}:out"
	_, first, err := st.CommitClaim(ctx, commit("p1", "m1", 0, "s"), "me")
	if err != nil || len(first) != 1 {
		t.Fatalf("first commit: %v %v", first, err)
	}
	_, second, err := st.CommitClaim(ctx, commit("p2", "m2", 0, "s"), "me")
	if err != nil || len(second) != 1 {
		t.Fatalf("second commit: %v %v", second, err)
	}
	// A stale commit conflicts, and still removes what it carries.
	stale := commit("p1", "m3", 0, "s")
	stale.Done = []store.Sent{{ID: first[0].ID}}
	if got, _, err := st.CommitClaim(ctx, stale, "me"); got != store.Conflict || err != nil {
		t.Fatalf("stale commit: %v %v", got, err)
	}
	if n, _ := rdb.XLen(ctx, outbox).Result(); n != 1 {
		t.Fatalf("%d entries in the outbox, want the second one only", n)
	}
	// A duplicate removes the rest.
	dup := commit("p2", "m2", 1, "s")
	dup.Done = []store.Sent{{ID: second[0].ID}}
	if got, _, _ := st.CommitClaim(ctx, dup, "me"); got != store.Duplicate {
		t.Fatalf("duplicate: %v", got)
	}
	pending, err := rdb.XPending(ctx, outbox, "send").Result()
	if err != nil || pending.Count != 0 {
		t.Fatalf("pending after the commits: %+v %v", pending, err)
	}
	if n, _ := rdb.XLen(ctx, outbox).Result(); n != 0 {
		t.Fatalf("%d entries left in the outbox", n)
	}
	tooMany := commit("p3", "m4", 0, "s")
	tooMany.Done = make([]store.Sent, store.MaxDone+1)
	if _, _, err := st.CommitClaim(ctx, tooMany, "me"); err == nil {
		t.Fatal("a commit took more finished entries than it may")
	}
}

// TestPutTrails: a trail is written only where it is still the one read,
// and only for a person with a session; an empty trail deletes it.
func TestPutTrails(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{})
	if got, err := st.Commit(ctx, commit("p1", "m1", 0, "s")); err != nil || got != store.Committed {
		t.Fatalf("commit: %v %v", got, err)
	}
	changed, err := st.PutTrails(ctx, nil, map[string][]byte{"p1": []byte("t1"), "nobody": []byte("t1")})
	if err != nil || len(changed) != 0 {
		t.Fatalf("first write: changed %v, %v", changed, err)
	}
	got, err := st.Trails(ctx, []string{"p1", "nobody"})
	if err != nil || string(got[0]) != "t1" || got[1] != nil {
		t.Fatalf("trails %q, %v; want t1 for p1, none for a person with no session", got, err)
	}
	// A writer that read nothing, after t1 was written, must read again.
	changed, err = st.PutTrails(ctx, nil, map[string][]byte{"p1": []byte("t2")})
	if err != nil || len(changed) != 1 || changed[0] != "p1" {
		t.Fatalf("stale write: changed %v, %v; want p1", changed, err)
	}
	if changed, err = st.PutTrails(ctx, map[string][]byte{"p1": []byte("t1")}, map[string][]byte{"p1": []byte("t2")}); err != nil || len(changed) != 0 {
		t.Fatalf("write over what was read: changed %v, %v", changed, err)
	}
	if got, _ := st.Trails(ctx, []string{"p1"}); string(got[0]) != "t2" {
		t.Fatalf("trail %q, want t2", got[0])
	}
	if n, _ := st.PersonKeys(ctx, "p1"); n != 2 {
		t.Fatalf("the person has %d keys, want 2 (session, trail)", n)
	}
	if changed, err = st.PutTrails(ctx, map[string][]byte{"p1": []byte("t2")}, map[string][]byte{"p1": {}}); err != nil || len(changed) != 0 {
		t.Fatalf("delete: changed %v, %v", changed, err)
	}
	if n, _ := st.PersonKeys(ctx, "p1"); n != 1 {
		t.Fatalf("after an empty trail the person has %d keys, want 1", n)
	}
}

// TestOldTrail reads the trail an older version kept, a set of IDs sealed
// one by one: clear chat reads and forgets it, erase deletes it.
func TestOldTrail(t *testing.T) {
	ctx := context.Background()
	st, rdb := newStore(t, store.Options{})
	for _, pid := range []string{"p1", "p2"} {
		if got, err := st.Commit(ctx, commit(pid, "m1", 0, "s")); err != nil || got != store.Committed {
			t.Fatalf("commit: %v %v", got, err)
		}
		key := fmt.Sprintf("%s:{%d}:m:%s", t.Name(), st.Partition(pid), pid)
		rdb.ZAdd(ctx, key, redis.Z{Score: float64(now.Add(-50 * time.Hour).Unix()), Member: "too old"},
			redis.Z{Score: float64(now.Add(-time.Hour).Unix()), Member: "sealed-1"}, redis.Z{Score: float64(now.Unix()), Member: "sealed-2"})
	}
	got, err := st.OldTrail(ctx, "p1", now)
	if err != nil || len(got) != 2 || string(got[0]) != "sealed-1" || string(got[1]) != "sealed-2" {
		t.Fatalf("old trail %q, %v; want the two of the last 48 hours", got, err)
	}
	if err := st.ForgetOldTrail(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.OldTrail(ctx, "p1", now); len(got) != 0 {
		t.Fatalf("old trail after forgetting: %q", got)
	}
	erase := commit("p2", "m2", 1, "")
	erase.Session = nil
	if got, _ := st.Commit(ctx, erase); got != store.Committed {
		t.Fatalf("erase: %v", got)
	}
	if n, _ := st.PersonKeys(ctx, "p2"); n != 0 {
		t.Fatalf("after erase the person has %d keys, want 0", n)
	}
}

// TestOutboxGroupLost: when the outbox's consumer group is gone (a Redis
// that came back empty), reading the outbox makes it again and hands over
// what was committed since, rather than failing until a restart.
func TestOutboxGroupLost(t *testing.T) {
	ctx := context.Background()
	st, rdb := newStore(t, store.Options{Partitions: 1})
	if err := st.EnsureGroups(ctx); err != nil {
		t.Fatal(err)
	}
	key := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + ":{0}:out"
	if err := rdb.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	if got, claimed, err := st.CommitClaim(ctx, commit("p1", "m1", 0, "s1"), "me"); err != nil || got != store.Committed || len(claimed) != 0 {
		t.Fatalf("commit without the group: %v %v %v", got, claimed, err)
	}
	msgs, err := st.ReadOutbox(ctx, 0, "me", 10, 10*time.Millisecond)
	if err != nil || len(msgs) != 1 || msgs[0].PID != "p1" {
		t.Fatalf("read after the group was lost: %+v %v", msgs, err)
	}
	if _, claimed, err := st.CommitClaim(ctx, commit("p1", "m2", 1, "s2"), "me"); err != nil || len(claimed) != 1 {
		t.Fatalf("a commit once the group is back hands its entry over: %v %v", claimed, err)
	}
}

// TestSessionStoredAsAHashIsRead: a session an earlier version stored as a
// hash (fields v, ls, a, k, d) is loaded, counts for staleness and for the
// version check, keeps its last reply sent and its kept codes, and the next
// commit stores it as one string with its lifetime.
func TestSessionStoredAsAHashIsRead(t *testing.T) {
	ctx := context.Background()
	st, rdb := newStore(t, store.Options{Partitions: 1, SessionTTL: time.Hour})
	if err := st.EnsureGroups(ctx); err != nil {
		t.Fatal(err)
	}
	key := t.Name() + ":{0}:s:p1"
	if err := rdb.HSet(ctx, key, "v", 7, "ls", 6, "a", "old address", "k", "AB12 CD34", "d", "old session").Err(); err != nil {
		t.Fatal(err)
	}
	rec, err := st.Load(ctx, "p1")
	if err != nil || rec.Version != 7 || string(rec.Session) != "old session" || string(rec.Address) != "old address" ||
		!slices.Equal(rec.Kept, []string{"AB12", "CD34"}) {
		t.Fatalf("load of a hash: %+v %v", rec, err)
	}
	stale, err := st.Stale(ctx, []store.Message{{PID: "p1", Seq: 5}, {PID: "p1", Seq: 6}})
	if err != nil || !slices.Equal(stale, []bool{true, false}) {
		t.Fatalf("stale from a hash: %v %v, want [true false]", stale, err)
	}
	if got, _ := st.Commit(ctx, commit("p1", "m1", 6, "s")); got != store.Conflict {
		t.Fatalf("commit at an old version of a hash: %v, want Conflict", got)
	}
	if got, err := st.Commit(ctx, commit("p1", "m1", 7, "new session")); got != store.Committed || err != nil {
		t.Fatalf("commit over a hash: %v %v", got, err)
	}
	if typ, _ := rdb.Type(ctx, key).Result(); typ != "string" {
		t.Fatalf("the session is a %s after a commit, want a string", typ)
	}
	if ttl, _ := rdb.TTL(ctx, key).Result(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("session lifetime %v, want up to an hour", ttl)
	}
	rec, err = st.Load(ctx, "p1")
	if err != nil || rec.Version != 8 || string(rec.Session) != "new session" || string(rec.Address) != "sealed" ||
		!slices.Equal(rec.Kept, []string{"AB12", "CD34"}) {
		t.Fatalf("load after the commit: %+v %v", rec, err)
	}
	if stale, _ = st.Stale(ctx, []store.Message{{PID: "p1", Seq: 5}}); !stale[0] {
		t.Fatal("the last reply sent was lost with the hash")
	}
}

// TestSessionString: the address and the session may hold any byte, a
// newline or a space too; the last reply sent is kept across commits and
// only moves forward; the lifetime survives the removal of a sent entry.
func TestSessionString(t *testing.T) {
	ctx := context.Background()
	st, rdb := newStore(t, store.Options{Partitions: 1, SessionTTL: time.Hour})
	if err := st.EnsureGroups(ctx); err != nil {
		t.Fatal(err)
	}
	c := commit("p1", "m1", 0, "a\n1 2 3\nb \x00")
	c.Address = []byte("\n9 9 9\n an address as long as a sealed one")
	c.Start = 1 << 40 // as large as a random first version
	_, sent, err := st.CommitClaim(ctx, c, "me")
	if err != nil || len(sent) != 1 {
		t.Fatalf("commit: %v %v", sent, err)
	}
	if err := st.DoneMany(ctx, map[int][]store.Sent{0: {{ID: sent[0].ID, PID: "p1", Seq: 5}}}); err != nil {
		t.Fatal(err)
	}
	if ttl, _ := rdb.TTL(ctx, t.Name()+":{0}:s:p1").Result(); ttl <= 0 {
		t.Fatalf("session lifetime %v after a removal, want it kept", ttl)
	}
	rec, err := st.Load(ctx, "p1")
	if err != nil || rec.Version != 1<<40 || string(rec.Session) != "a\n1 2 3\nb \x00" || string(rec.Address) != string(c.Address) || rec.Kept != nil {
		t.Fatalf("load: %+v %v", rec, err)
	}
	next := commit("p1", "m2", 1<<40, "s")
	next.Address = c.Address
	if got, _ := st.Commit(ctx, next); got != store.Committed {
		t.Fatalf("second commit: %v", got)
	}
	stale, err := st.Stale(ctx, []store.Message{{PID: "p1", Seq: 4}, {PID: "p1", Seq: 5}})
	if err != nil || !slices.Equal(stale, []bool{true, false}) {
		t.Fatalf("stale after a commit: %v %v, want [true false]: the last reply sent was not kept", stale, err)
	}
}
