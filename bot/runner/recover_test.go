package runner_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/runner"
	"github.com/helpline/helpline/bot/store"
)

// recovering is delivery as a replica runs it, on test time: heartbeats of
// 300ms, a claim round every 20ms, and no idle claim within the test.
func recovering(f fixture, s bot.Sender, consumer string, box runner.Outbox) *runner.Delivery {
	if box == nil {
		box = f.st
	}
	return runner.NewDelivery(box, f.keys, map[bot.Channel]bot.Sender{bot.Web: s}, nil, quiet, runner.DeliveryOptions{
		Consumer: consumer, Backoff: time.Millisecond, MaxWait: 50 * time.Millisecond, ClaimIdle: time.Hour,
		Heartbeat: 300 * time.Millisecond, ClaimEvery: 20 * time.Millisecond, Block: 50 * time.Millisecond,
	})
}

// say commits the person's messages, with no courier: the entries wait for
// a reader.
func say(t *testing.T, f fixture, address string, texts ...string) {
	t.Helper()
	for i, text := range texts {
		if err := f.disp.Handle(context.Background(), bot.Inbound{Channel: bot.Web, Address: address, ID: fmt.Sprint(address, text, i), Text: text, LangHints: []string{"en"}}); err != nil {
			t.Fatal(err)
		}
	}
}

// hold makes consumer take every waiting entry and never send them, as a
// replica that dies right after.
func hold(t *testing.T, f fixture, consumer string, want int) {
	t.Helper()
	if err := f.st.EnsureGroups(context.Background()); err != nil {
		t.Fatal(err)
	}
	taken, err := f.st.ReadOutbox(context.Background(), 0, consumer, 100, time.Millisecond)
	if err != nil || len(taken) != want {
		t.Fatalf("%s took %d entries (%v), want %d", consumer, len(taken), err, want)
	}
}

// TestDeadReplicaTakenOver: what a replica that died without a heartbeat
// held is sent by a live one within rounds of the claim loop, in order,
// not after the long claim idle (an hour here).
func TestDeadReplicaTakenOver(t *testing.T) {
	f := setup(t, 1)
	say(t, f, "tok-dead", "hi", "1", "1")
	hold(t, f, "dead", 3)
	s := &sender{}
	runUntil(t, recovering(f, s, "live", nil), func() bool { return len(s.texts()) == 3 })
	if got := s.texts(); !strings.Contains(got[0], "Hello") {
		t.Fatalf("sent %q, want the three replies in order", got)
	}
}

// TestRestartedReplicaTakesBackItsOwn: a replica that restarts under the
// same name sends what its former self held, though the name's heartbeat is
// still alive.
func TestRestartedReplicaTakesBackItsOwn(t *testing.T) {
	f := setup(t, 1)
	say(t, f, "tok-own", "hi", "1")
	hold(t, f, "pod-1", 2)
	if err := f.st.Beat(context.Background(), "pod-1", time.Minute); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // the former self held them before this one started
	s := &sender{}
	runUntil(t, recovering(f, s, "pod-1", nil), func() bool { return len(s.texts()) == 2 })
}

// TestLiveReplicaNeverResends: while removal fails (Redis restarting), a
// claim that hands the replica an entry it sent already does not make it
// send again; the removal is tried again until it succeeds.
func TestLiveReplicaNeverResends(t *testing.T) {
	f := setup(t, 1)
	say(t, f, "tok-resend", "hi", "1")
	box := &failingDone{Store: f.st}
	box.fails.Store(6)
	s := &sender{}
	d := runner.NewDelivery(box, f.keys, map[bot.Channel]bot.Sender{bot.Web: s}, nil, quiet, runner.DeliveryOptions{
		Consumer: "me", ClaimIdle: 2 * time.Millisecond, ClaimEvery: 5 * time.Millisecond, Block: 20 * time.Millisecond, Linger: time.Millisecond,
	})
	ctx := context.Background()
	runUntil(t, d, func() bool {
		n, _ := f.st.ClaimOutbox(ctx, 0, "watcher", time.Hour, 10) // counts nothing: only reads
		return box.fails.Load() < 0 && len(n) == 0 && box.claims.Load() > 3 && pendingLen(t, f) == 0
	})
	if got := s.texts(); len(got) != 2 {
		t.Fatalf("sent %d replies, want 2: %q", len(got), got)
	}
}

// TestClaimReadBeforeRemovalNotResent: a claim reads an entry the replica
// is sending, and hands it over only after the entry was sent and removed;
// the replica does not send it again.
func TestClaimReadBeforeRemovalNotResent(t *testing.T) {
	f := setup(t, 1)
	say(t, f, "tok-late-claim", "hi")
	box := &lateClaim{Store: f.st, removed: make(chan struct{})}
	s := &sender{}
	d := runner.NewDelivery(box, f.keys, map[bot.Channel]bot.Sender{bot.Web: s}, nil, quiet, runner.DeliveryOptions{
		Consumer: "me", ClaimIdle: 2 * time.Millisecond, ClaimEvery: 5 * time.Millisecond, Block: 20 * time.Millisecond, Linger: 50 * time.Millisecond,
	})
	// The removed entry is remembered only while a claim is in flight:
	// the readers, always waiting for new entries, do not keep it.
	runUntil(t, d, func() bool {
		return box.late.Load() && pendingLen(t, f) == 0 && len(s.texts()) >= 1 && d.RemovedKept() == 0
	})
	time.Sleep(50 * time.Millisecond) // for a send of the late copy, if one were made
	if got := s.texts(); len(got) != 1 {
		t.Fatalf("sent %d replies, want 1: %q", len(got), got)
	}
}

// lateClaim is the store with the first claim that finds an entry held
// back until an entry was removed, as a claim whose answer is slow.
type lateClaim struct {
	*store.Store
	removed chan struct{}
	closed  atomic.Bool
	late    atomic.Bool
}

func (b *lateClaim) ClaimOutbox(ctx context.Context, part int, consumer string, minIdle time.Duration, count int64) ([]store.Message, error) {
	msgs, err := b.Store.ClaimOutbox(ctx, part, consumer, minIdle, count)
	if len(msgs) > 0 && !b.late.Load() {
		select {
		case <-b.removed:
			b.late.Store(true)
		case <-time.After(5 * time.Second):
		}
	}
	return msgs, err
}

func (b *lateClaim) DoneMany(ctx context.Context, sent map[int][]store.Sent) error {
	err := b.Store.DoneMany(ctx, sent)
	if err == nil && len(sent) > 0 && b.closed.CompareAndSwap(false, true) {
		close(b.removed)
	}
	return err
}

func pendingLen(t *testing.T, f fixture) int64 {
	t.Helper()
	holders, err := f.st.Holders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, cs := range holders {
		for _, c := range cs {
			n += c
		}
	}
	return n
}

// failingDone is the store with removals failing, as while Redis
// restarts, and claims counted.
type failingDone struct {
	*store.Store
	fails  atomic.Int64
	claims atomic.Int64
}

func (b *failingDone) DoneMany(ctx context.Context, sent map[int][]store.Sent) error {
	if b.fails.Add(-1) >= 0 {
		return errors.New("connection refused")
	}
	return b.Store.DoneMany(ctx, sent)
}

func (b *failingDone) ClaimOutbox(ctx context.Context, part int, consumer string, minIdle time.Duration, count int64) ([]store.Message, error) {
	msgs, err := b.Store.ClaimOutbox(ctx, part, consumer, minIdle, count)
	if len(msgs) > 0 {
		b.claims.Add(1)
	}
	return msgs, err
}

// TestStaleReplyDropped: an entry a dead replica held is dropped, not sent,
// when its person has been sent a later reply since; it is counted.
func TestStaleReplyDropped(t *testing.T) {
	f := setup(t, 1)
	say(t, f, "tok-stale", "hi")
	hold(t, f, "dead", 1)
	say(t, f, "tok-stale", "menu")
	// A replica sends the later reply and removes it; it does not look for
	// dead replicas yet.
	first := &sender{}
	d := runner.NewDelivery(f.st, f.keys, map[bot.Channel]bot.Sender{bot.Web: first}, nil, quiet, runner.DeliveryOptions{
		Consumer: "live", ClaimIdle: time.Hour, ClaimEvery: time.Hour, Block: 20 * time.Millisecond,
	})
	runUntil(t, d, func() bool { return len(first.texts()) == 1 && pendingLen(t, f) == 1 })
	// Then the dead replica's entry is taken over.
	s := &sender{}
	ctx := context.Background()
	runUntil(t, recovering(f, s, "live", nil), func() bool {
		stats, _ := f.st.Stats(ctx, time.Now())
		return stats["send.stale"] == 1 && pendingLen(t, f) == 0
	})
	if got := s.texts(); len(got) != 0 {
		t.Fatalf("sent %q, want the stale reply dropped", got)
	}
}
