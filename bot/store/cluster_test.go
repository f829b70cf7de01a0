package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/store"
	"github.com/helpline/helpline/bot/store/redistest"
)

// TestEveryScriptStaysInOneSlot runs the store on a real one-node Redis
// Cluster: a script or pipeline whose keys span hash slots fails there with
// CROSSSLOT. It also asks the cluster for the slot of every key a commit
// wrote and checks that they are one.
func TestEveryScriptStaysInOneSlot(t *testing.T) {
	ctx := context.Background()
	srv, err := redistest.Start("--cluster-enabled", "yes", "--cluster-node-timeout", "1000")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	admin := srv.Client()
	defer admin.Close()
	if err := admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		info, _ := admin.ClusterInfo(ctx).Result()
		if strings.Contains(info, "cluster_state:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster did not become ready: %s", info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{srv.Addr}})
	defer rdb.Close()
	st := store.New(rdb, store.Options{Partitions: 8})

	if err := st.EnsureGroups(ctx); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []string{"AAAAAAAAAAAAAAAAAAAAAA", "zzzzzzzzzzzzzzzzzzzzzz", "p-3"} {
		c := commit(pid, "m1", 0, "s")
		c.Case = &store.CaseWrite{Code: "K-" + pid[:1], Kept: []string{"K-" + pid[:1]}, Fields: []string{"lang", "en"}, Lines: []store.Line{{Who: "p", Sealed: []byte("x")}}, TTL: time.Hour}
		if got, err := st.Commit(ctx, c); err != nil || got != store.Committed {
			t.Fatalf("commit on cluster: %v %v", got, err)
		}
		if err := st.Deliver(ctx, pid, []byte("r"), false); err != nil {
			t.Fatal(err)
		}
		slots := map[int64][]string{}
		keys, _ := admin.Keys(ctx, "hl:*"+pid+"*").Result()
		keys = append(keys, outboxKeyOf(t, admin, pid))
		for _, k := range keys {
			slot, err := admin.ClusterKeySlot(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			slots[slot] = append(slots[slot], k)
		}
		if len(slots) != 1 || len(keys) < 4 {
			t.Fatalf("keys of %s in %d slots: %v", pid, len(slots), slots)
		}
		erase := commit(pid, "m2", 1, "")
		erase.Session, erase.Kept = nil, []string{"K-" + pid[:1]}
		if got, err := st.Commit(ctx, erase); err != nil || got != store.Committed {
			t.Fatalf("erase on cluster: %v %v", got, err)
		}
		if n, _ := st.PersonKeys(ctx, pid, "K-"+pid[:1]); n != 0 {
			t.Fatalf("%d keys left after erase", n)
		}
	}
	queueOnCluster(t, st)
	// Finished entries of every partition go in one pipeline, which the
	// cluster client splits by slot.
	finished := map[int][]store.Sent{}
	for p := range st.Partitions() {
		msgs, err := st.ReadOutbox(ctx, p, "c", 100, time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			finished[p] = append(finished[p], store.Sent{ID: m.ID, PID: m.PID, Seq: m.Seq})
		}
	}
	if len(finished) < 2 {
		t.Fatalf("entries in %d partitions: want several to test one removal across slots", len(finished))
	}
	if err := st.DoneMany(ctx, finished); err != nil {
		t.Fatal(err)
	}
	for p := range st.Partitions() {
		if n, _ := rdb.XLen(ctx, "hl:{"+fmt.Sprint(p)+"}:out").Result(); n != 0 {
			t.Fatalf("partition %d keeps %d entries after DoneMany", p, n)
		}
	}
}

// outboxKeyOf finds the outbox stream that holds an entry of pid.
func outboxKeyOf(t *testing.T, admin *redis.Client, pid string) string {
	t.Helper()
	ctx := context.Background()
	streams, _ := admin.Keys(ctx, "hl:*:out").Result()
	for _, s := range streams {
		msgs, _ := admin.XRange(ctx, s, "-", "+").Result()
		for _, m := range msgs {
			if m.Values["p"] == pid {
				return s
			}
		}
	}
	t.Fatalf("no outbox entry of %s", pid)
	return ""
}

// queueOnCluster runs every queue and console script on the cluster: each
// must keep to the {q} slot.
func queueOnCluster(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	if ok, err := st.Reserve(ctx, "Q1", "p"); !ok || err != nil {
		t.Fatalf("reserve: %v %v", ok, err)
	}
	if _, err := st.Enqueue(ctx, bot.Case{Code: "Q1", PID: "p", Lang: "en", Created: now}); err != nil {
		t.Fatal(err)
	}
	steps := []error{
		st.Raise(ctx, "Q1", 2, []string{"danger"}),
		st.Claim(ctx, "Q1", "anna", []string{"en"}, 2, time.Minute, now),
		st.Transfer(ctx, "Q1", "anna", "olga", 2),
		st.Transfer(ctx, "Q1", "olga", "", 2),
		st.Finish(ctx, "Q1", "", "silent", now),
		st.AddAccount(ctx, store.Account{Name: "anna", Hash: "h", Role: "counsellor"}),
		st.SaveLogin(ctx, "tok", store.ConsoleLogin{User: "anna", CSRF: "x"}),
		st.Fail(ctx, "anna", now),
		st.Seen(ctx, "anna", now),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("queue step %d on cluster: %v", i, err)
		}
	}
	if _, err := st.TakeNotice(ctx, "Q1", 1, time.Minute, now); err != nil {
		t.Fatal(err)
	}
	if w, err := st.Waiting(ctx); err != nil || len(w) != 0 {
		t.Fatalf("waiting: %v %v", w, err)
	}
}

// TestClusterMasterStallHoldsOnlyItsOwn stalls one master of a 3-master
// Cluster while a commit waits on it: a commit for a person another master
// serves is made meanwhile, not held behind it in the same batch.
func TestClusterMasterStallHoldsOnlyItsOwn(t *testing.T) {
	ctx := context.Background()
	c, err := redistest.StartCluster(3, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rdb := c.Client()
	defer rdb.Close()
	st := store.New(rdb, store.Options{Partitions: 16})
	// Two people whose partitions two different masters serve.
	masterOf := func(pid string) *redistest.Server {
		m, err := c.MasterOf(ctx, fmt.Sprintf("{%d}", st.Partition(pid)))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	stalled, other := "p0", ""
	for i := 1; other == ""; i++ {
		if pid := fmt.Sprintf("p%d", i); masterOf(pid) != masterOf(stalled) {
			other = pid
		}
	}
	// Both masters have served a commit, so the client knows the slots.
	for _, pid := range []string{stalled, other} {
		if got, err := st.Commit(ctx, commit(pid, pid+"-m0", 0, "s1")); got != store.Committed || err != nil {
			t.Fatalf("commit for %s: %v %v", pid, got, err)
		}
	}
	m := masterOf(stalled)
	admin := m.Client()
	defer admin.Close()
	slept := make(chan error, 1)
	// Shorter than the node timeout, so the cluster stays up.
	go func() { slept <- admin.Do(ctx, "DEBUG", "SLEEP", "0.7").Err() }()
	// The master is asleep once a ping to it goes unanswered.
	probe := redis.NewClient(&redis.Options{Addr: m.Addr, ReadTimeout: 50 * time.Millisecond, MaxRetries: -1})
	defer probe.Close()
	for probe.Ping(ctx).Err() == nil {
		select {
		case err := <-slept:
			t.Fatalf("the master did not stall: DEBUG SLEEP: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	var waited atomic.Bool
	firstDone := make(chan struct{})
	go func() {
		defer close(firstDone)
		got, err := st.Commit(ctx, commit(stalled, stalled+"-m1", 1, "s2"))
		waited.Store(true)
		if got != store.Committed || err != nil {
			t.Errorf("the commit on the stalled master: %v %v", got, err)
		}
	}()
	time.Sleep(50 * time.Millisecond) // for that commit to be in flight
	if got, err := st.Commit(ctx, commit(other, other+"-m1", 1, "s2")); got != store.Committed || err != nil {
		t.Fatalf("the commit on another master: %v %v", got, err)
	}
	if waited.Load() {
		t.Error("the commit on another master waited for the stalled one")
	}
	<-firstDone
}
