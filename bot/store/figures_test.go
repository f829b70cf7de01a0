package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/store"
)

// freshStore gives each run of a test keys of its own, with 4 partitions.
func freshStore(t *testing.T) *store.Store {
	rdb := server.Client()
	t.Cleanup(func() { rdb.Close() })
	return store.New(rdb, store.Options{Prefix: fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano()), Partitions: 4})
}

// TestOutboxBacklog: the backlog of a partition is what was committed and
// not yet finished, and its oldest entry is the first one committed.
func TestOutboxBacklog(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t)
	if err := st.EnsureGroups(ctx); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	pid := "pid-backlog"
	part := st.Partition(pid)
	c := commit(pid, "m1", 0, "s1")
	c.Out = []store.Entry{{Channel: "web", Reply: []byte("r1")}, {Channel: "web", Reply: []byte("r2")}}
	if o, err := st.Commit(ctx, c); err != nil || o != store.Committed {
		t.Fatalf("commit: %v %v", o, err)
	}
	backlog, err := st.OutboxBacklog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(backlog) != 4 {
		t.Fatalf("%d partitions, want 4", len(backlog))
	}
	for _, b := range backlog {
		switch {
		case b.Part == part && (b.Entries != 2 || b.Oldest.Before(before) || b.Oldest.After(time.Now())):
			t.Errorf("the person's partition: %+v, want 2 entries committed just now", b)
		case b.Part != part && (b.Entries != 0 || !b.Oldest.IsZero()):
			t.Errorf("partition %d holds nothing: %+v", b.Part, b)
		}
	}
	msgs, err := st.ReadOutbox(ctx, part, "r", 10, time.Millisecond)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("read: %v %v", msgs, err)
	}
	if err := st.Done(ctx, part, msgs[0].ID, msgs[1].ID); err != nil {
		t.Fatal(err)
	}
	backlog, err = st.OutboxBacklog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b := backlog[part]; b.Entries != 0 || !b.Oldest.IsZero() {
		t.Fatalf("after both were finished: %+v", b)
	}
}

// TestQueueFigures counts the waiting cases by priority and language, and
// the held ones.
func TestQueueFigures(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t)
	enqueue(t, st, "N-EN", "en", bot.Normal, now.Add(-3*time.Minute))
	enqueue(t, st, "N-RU", "ru", bot.Normal, now.Add(-time.Minute))
	enqueue(t, st, "U-RU", "ru", bot.Urgent, now.Add(-10*time.Second))
	enqueue(t, st, "H-HELD", "en", bot.High, now.Add(-time.Hour))
	if err := st.Claim(ctx, "H-HELD", "anna", []string{"en"}, 4, time.Minute, now); err != nil {
		t.Fatal(err)
	}
	f, err := st.QueueFigures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.Held != 1 {
		t.Errorf("held %d, want 1", f.Held)
	}
	want := []store.WaitingCase{
		{Priority: bot.Normal, Lang: "en", Since: now.Add(-3 * time.Minute)},
		{Priority: bot.Normal, Lang: "ru", Since: now.Add(-time.Minute)},
		{Priority: bot.Urgent, Lang: "ru", Since: now.Add(-10 * time.Second)},
	}
	if !slices.EqualFunc(f.Waiting, want, func(a, b store.WaitingCase) bool {
		return a.Priority == b.Priority && a.Lang == b.Lang && a.Since.Equal(b.Since)
	}) {
		t.Fatalf("waiting %+v, want %+v", f.Waiting, want)
	}
}

// TestOnError counts the commands that fail and only those: an answer of
// no such key, a script run for the first time and a group created twice
// are not failures.
func TestOnError(t *testing.T) {
	ctx := context.Background()
	rdb := server.Client()
	defer rdb.Close()
	var mu sync.Mutex
	var failed []string
	store.OnError(rdb, func(cmd string) {
		mu.Lock()
		defer mu.Unlock()
		failed = append(failed, cmd)
	})
	st := store.New(rdb, store.Options{Prefix: fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano()), Partitions: 2})
	for range 2 {
		if err := st.EnsureGroups(ctx); err != nil { // BUSYGROUP the second time
			t.Fatal(err)
		}
	}
	rdb.ScriptFlush(ctx)
	if _, err := st.Commit(ctx, commit("pid-hook", "m1", 0, "s")); err != nil { // NOSCRIPT, then EVAL
		t.Fatal(err)
	}
	if err := rdb.Get(ctx, t.Name()+":none").Err(); !errors.Is(err, redis.Nil) {
		t.Fatal(err)
	}
	rdb.Set(ctx, t.Name()+":string", "x", time.Minute)
	if err := rdb.HGet(ctx, t.Name()+":string", "f").Err(); err == nil {
		t.Fatal("HGET of a string should fail")
	}
	rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, t.Name()+":string")
		p.LPush(ctx, t.Name()+":string", "x")
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(failed, []string{"hget", "lpush"}) {
		t.Fatalf("failed commands %q, want hget and lpush", failed)
	}
}
