package telegram

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// TrailStore keeps the sealed IDs of a person's messages of the last 48
// hours, both ways, for clear chat and for nothing else.
type TrailStore interface {
	AddTrail(ctx context.Context, now time.Time, sealed map[string][][]byte) error
	Trail(ctx context.Context, pid string, now time.Time) ([][]byte, error)
	ForgetTrail(ctx context.Context, pid string, sealed [][]byte) error
}

// maxPending bounds the message IDs waiting to be written while Redis is
// away; beyond it the oldest are dropped (and cannot be cleared).
const maxPending = 100_000

// trail records message IDs off the hot path: record only queues a sealed
// ID, and one writer stores what is queued in one round trip, however many
// people it holds.
type trail struct {
	store TrailStore
	keys  Sealer
	log   *slog.Logger
	now   func() time.Time
	wake  chan struct{}

	mu      sync.Mutex
	pending map[string][][]byte
	n       int
	closed  bool

	// writing is held while a batch is written, so that flush returns only
	// once everything recorded before it is stored.
	writing sync.Mutex
}

func newTrail(st TrailStore, keys Sealer, log *slog.Logger, now func() time.Time) *trail {
	return &trail{store: st, keys: keys, log: log, now: now, wake: make(chan struct{}, 1), pending: map[string][][]byte{}}
}

// record queues message msg of person pid.
func (t *trail) record(pid string, msg int) {
	sealed := t.keys.Seal(strconv.AppendInt(nil, int64(msg), 10), pid)
	t.mu.Lock()
	if t.n >= maxPending {
		t.pending = map[string][][]byte{}
		t.n = 0
		t.log.Warn("telegram trail dropped: Redis is not taking it")
	}
	t.pending[pid] = append(t.pending[pid], sealed)
	t.n++
	closed := t.closed
	t.mu.Unlock()
	if closed { // the writer is gone: a late send during shutdown
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		t.flush(ctx)
		return
	}
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// gather is how long the writer lets message IDs gather before it writes
// them in one round trip. A crash loses at most this much of the trail:
// those messages stay on the phone after a clear.
const gather = 50 * time.Millisecond

// run writes what is queued until ctx ends, then writes the rest.
func (t *trail) run(ctx context.Context) {
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			t.close(ctx)
			return
		case <-t.wake:
			if sleep(ctx, gather); ctx.Err() != nil {
				continue // stopping: close writes the rest
			}
		case <-retry.C:
		}
		t.flush(ctx)
	}
}

// close writes the rest once the writer stops; later records write
// themselves.
func (t *trail) close(ctx context.Context) {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	end, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	t.flush(end)
}

// flush stores everything queued so far. What cannot be stored stays queued
// for the next try.
func (t *trail) flush(ctx context.Context) error {
	t.writing.Lock()
	defer t.writing.Unlock()
	t.mu.Lock()
	batch, n := t.pending, t.n
	if n > 0 {
		t.pending, t.n = map[string][][]byte{}, 0
	}
	t.mu.Unlock()
	if n == 0 {
		return nil
	}
	err := t.store.AddTrail(ctx, t.now(), batch)
	if err == nil {
		return nil
	}
	t.log.Warn("telegram trail not stored yet", "err", err)
	t.mu.Lock()
	for pid, ids := range t.pending {
		batch[pid] = append(batch[pid], ids...)
	}
	t.pending, t.n = batch, t.n+n
	t.mu.Unlock()
	return err
}

// deleteBatch is the most message IDs one deleteMessages call takes.
const deleteBatch = 100

// clear removes the person's messages of the last 48 hours from the chat,
// and the message that asked for it, and forgets their IDs. Telegram skips
// messages that are already gone, so a clear that is tried again repeats
// nothing harmful.
func (c *Channel) clear(ctx context.Context, pid string, chat int64, asked int) error {
	if err := c.trail.flush(ctx); err != nil {
		return err
	}
	sealed, err := c.deps.Trail.Trail(ctx, pid, c.opts.Now())
	if err != nil {
		return err
	}
	ids := make([]int, 0, len(sealed)+1)
	if asked > 0 {
		ids = append(ids, asked)
	}
	for _, s := range sealed {
		b, err := c.deps.Keys.Open(s, pid)
		if err != nil {
			continue
		}
		if id, err := strconv.Atoi(string(b)); err == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for batch := range slices.Chunk(ids, deleteBatch) {
		// A 400 means none of these can be deleted any more (too old): go on.
		if err := c.api.DeleteMessages(ctx, chat, batch); err != nil && status(err) != http.StatusBadRequest {
			return err
		}
	}
	c.log.Info("telegram chat cleared", "pid", pid, "messages", len(ids))
	return c.deps.Trail.ForgetTrail(ctx, pid, sealed)
}
