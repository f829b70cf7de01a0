package telegram

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// TrailStore keeps a person's trail: the IDs of their messages of the last
// 48 hours, both ways, for clear chat and for nothing else, sealed as one.
type TrailStore interface {
	// Trails reads people's sealed trails, nil for none.
	Trails(ctx context.Context, pids []string) ([][]byte, error)
	// PutTrails writes each person's trail in next where the stored one is
	// still the one in old, and returns the people whose trail changed
	// since it was read. An empty trail deletes it.
	PutTrails(ctx context.Context, old, next map[string][]byte) ([]string, error)
	// OldTrail and ForgetOldTrail read and delete the IDs an older version
	// kept, each sealed alone.
	OldTrail(ctx context.Context, pid string, now time.Time) ([][]byte, error)
	ForgetOldTrail(ctx context.Context, pid string) error
}

// maxPending bounds the message IDs waiting to be written while Redis is
// away; beyond it the oldest are dropped (and cannot be cleared).
const maxPending = 100_000

// sent is one message of a trail: its ID and when it was recorded, in Unix
// seconds.
type sent struct {
	id int
	at int64
}

// trail records message IDs off the hot path: record only queues an ID,
// and one writer stores what is queued in two round trips, however many
// people it holds: it reads their trails, adds the new IDs, drops those
// older than 48 hours, and writes them back sealed.
type trail struct {
	store TrailStore
	keys  Sealer
	log   *slog.Logger
	now   func() time.Time
	wake  chan struct{}

	mu      sync.Mutex
	pending map[string][]sent
	n       int
	closed  bool

	// writing is held while a batch is written, so that flush returns only
	// once everything recorded before it is stored.
	writing sync.Mutex
}

func newTrail(st TrailStore, keys Sealer, log *slog.Logger, now func() time.Time) *trail {
	return &trail{store: st, keys: keys, log: log, now: now, wake: make(chan struct{}, 1), pending: map[string][]sent{}}
}

// record queues message msg of person pid.
func (t *trail) record(pid string, msg int) {
	at := t.now().Unix()
	t.mu.Lock()
	if t.n >= maxPending {
		t.pending = map[string][]sent{}
		t.n = 0
		t.log.Warn("telegram trail dropped: Redis is not taking it")
	}
	t.pending[pid] = append(t.pending[pid], sent{id: msg, at: at})
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
		t.pending, t.n = map[string][]sent{}, 0
	}
	t.mu.Unlock()
	if n == 0 {
		return nil
	}
	err := t.change(ctx, batch, func(pid string, s []sent) []sent { return append(s, batch[pid]...) })
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

// errTrailBusy means people's trails kept changing under the writer.
var errTrailBusy = errors.New("trail changed too often to write")

// change reads the trails of the people of batch, changes each with edit,
// drops the IDs older than 48 hours, and writes them back sealed, reading
// again those another writer changed meanwhile.
func (t *trail) change(ctx context.Context, batch map[string][]sent, edit func(pid string, s []sent) []sent) error {
	pids := make([]string, 0, len(batch))
	for pid := range batch {
		pids = append(pids, pid)
	}
	for range 8 {
		stored, err := t.store.Trails(ctx, pids)
		if err != nil {
			return err
		}
		now := t.now()
		since := now.Add(-trailTTL).Unix()
		old, next := make(map[string][]byte, len(pids)), make(map[string][]byte, len(pids))
		for i, pid := range pids {
			old[pid] = stored[i]
			s := edit(pid, t.open(pid, stored[i]))
			s = slices.DeleteFunc(s, func(m sent) bool { return m.at < since })
			next[pid] = []byte{}
			if len(s) > 0 {
				next[pid] = t.keys.Seal(encodeTrail(s), pid)
			}
		}
		if pids, err = t.store.PutTrails(ctx, old, next); err != nil || len(pids) == 0 {
			return err
		}
	}
	return errTrailBusy
}

// open reads a sealed trail; one that does not open is taken as empty, and
// is replaced at the next write.
func (t *trail) open(pid string, sealed []byte) []sent {
	if sealed == nil {
		return nil
	}
	b, err := t.keys.Open(sealed, pid)
	if err == nil {
		var s []sent
		if s, err = decodeTrail(b); err == nil {
			return s
		}
	}
	t.log.Warn("telegram trail unreadable, starting anew", "pid", pid)
	return nil
}

// trailTTL is how long an ID stays in a trail: Telegram lets a bot delete
// a message of a private chat for 48 hours.
const trailTTL = 48 * time.Hour

// trailVersion starts an encoded trail.
const trailVersion = 1

// encodeTrail encodes a trail compactly: the IDs in order, each as the
// difference from the one before, and each time as the difference from the
// time before, in varints. A chat's IDs count up one by one and its
// messages come seconds apart: about two bytes a message.
func encodeTrail(s []sent) []byte {
	slices.SortFunc(s, func(a, b sent) int { return a.id - b.id })
	s = slices.CompactFunc(s, func(a, b sent) bool { return a.id == b.id })
	b := make([]byte, 0, 8+3*len(s))
	b = append(b, trailVersion)
	b = binary.AppendUvarint(b, uint64(len(s)))
	var id int
	var at int64
	for _, m := range s {
		b = binary.AppendUvarint(b, uint64(m.id-id))
		b = binary.AppendVarint(b, m.at-at)
		id, at = m.id, m.at
	}
	return b
}

var errBadTrail = errors.New("bad trail encoding")

// decodeTrail reads what encodeTrail wrote.
func decodeTrail(b []byte) ([]sent, error) {
	if len(b) < 2 || b[0] != trailVersion {
		return nil, errBadTrail
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, errBadTrail
	}
	b = b[k:]
	s := make([]sent, 0, n)
	var id uint64
	var at int64
	for range n {
		d, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, errBadTrail
		}
		b = b[k:]
		dt, k := binary.Varint(b)
		if k <= 0 {
			return nil, errBadTrail
		}
		b = b[k:]
		id += d
		at += dt
		if id > 1<<31 {
			return nil, errBadTrail
		}
		s = append(s, sent{id: int(id), at: at})
	}
	if len(b) != 0 {
		return nil, errBadTrail
	}
	return s, nil
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
	stored, err := c.deps.Trail.Trails(ctx, []string{pid})
	if err != nil {
		return err
	}
	old, err := c.deps.Trail.OldTrail(ctx, pid, c.opts.Now())
	if err != nil {
		return err
	}
	since := c.opts.Now().Add(-trailTTL).Unix()
	ids := make([]int, 0, len(old)+1)
	if asked > 0 {
		ids = append(ids, asked)
	}
	for _, m := range c.trail.open(pid, stored[0]) {
		if m.at >= since {
			ids = append(ids, m.id)
		}
	}
	for _, s := range old {
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
	// Forget what is gone from the phone; what was recorded since stays.
	err = c.trail.change(ctx, map[string][]sent{pid: nil}, func(_ string, s []sent) []sent {
		return slices.DeleteFunc(s, func(m sent) bool { _, gone := slices.BinarySearch(ids, m.id); return gone })
	})
	if err != nil {
		return err
	}
	if len(old) > 0 {
		return c.deps.Trail.ForgetOldTrail(ctx, pid)
	}
	return nil
}
