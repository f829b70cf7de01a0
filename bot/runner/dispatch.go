// Package runner is the host of the conversation engine: it turns a
// person's message into one committed step (dedupe, per-person
// serialisation, the engine's step, one atomic commit) and drains the
// outbox through the channels' senders.
package runner

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/store"
)

// Store is what the dispatcher needs of the store.
type Store interface {
	Load(ctx context.Context, pid string) (store.Record, error)
	Commit(ctx context.Context, c store.Commit) (store.Outcome, error)
	CommitClaim(ctx context.Context, c store.Commit, consumer string) (store.Outcome, []store.Message, error)
	Partition(pid string) int
}

// Courier takes outbox entries a commit claimed for this replica and sends
// them; Delivery is one. A commit also removes the entries of its partition
// the courier finished.
type Courier interface {
	Consumer() string
	Hand(msgs []store.Message)
	Finished(part int) []string
	Unfinished(part int, ids []string)
}

// ErrContention means a person's session kept changing under the
// dispatcher: more messages of one person at once than it retries for.
var ErrContention = errors.New("session changed too often to commit")

// maxAttempts bounds the reads and steps of one message when other messages
// of the same person commit first. Each conflict means another message
// committed, so a message loses at most as often as there are other
// messages of the person in flight.
const maxAttempts = 32

// stripes is the number of locks that serialise one person's messages on
// this replica; across replicas the version check does.
const stripes = 256

// Dispatcher runs inbound messages through the engine and commits them.
type Dispatcher struct {
	engine  *flow.Engine
	store   Store
	keys    *secret.Keys
	log     *slog.Logger
	now     func() time.Time
	cases   *Cases
	locks   [stripes]sync.Mutex
	courier Courier
	// known remembers, per stripe and guarded by its lock, the records this
	// replica committed last, so that the next message of the person needs
	// no read: the commit's version check tells whether the record is
	// still current. Nil when off.
	known    []map[string]store.Record
	knownMax int
}

// NewDispatcher makes a dispatcher. now is the clock.
func NewDispatcher(engine *flow.Engine, st Store, keys *secret.Keys, log *slog.Logger, now func() time.Time) *Dispatcher {
	return &Dispatcher{engine: engine, store: st, keys: keys, log: log, now: now}
}

// PersonID returns the pseudonymous ID of the sender of in.
func (d *Dispatcher) PersonID(in bot.Inbound) string { return d.keys.PersonID(in.Channel, in.Address) }

// Handle takes one inbound message. When it returns nil the message's
// effect is committed (or it was a duplicate, already committed): a webhook
// may answer 2xx then. Two messages of one person are never both applied to
// the same session version.
func (d *Dispatcher) Handle(ctx context.Context, in bot.Inbound) error {
	pid := d.PersonID(in)
	mu := &d.locks[stripe(pid)]
	mu.Lock()
	defer mu.Unlock()
	var code string // a case code reserved by an earlier attempt
	for attempt := range maxAttempts {
		rec, ok := d.remembered(pid, attempt)
		if !ok {
			var err error
			if rec, err = d.store.Load(ctx, pid); err != nil {
				return err
			}
		}
		s := d.session(pid, rec)
		now := d.now()
		var c store.Commit
		var next bot.Session
		var replies []bot.Reply
		var effects []bot.Effect
		cc, ok, err := d.cases.queueChoice(pid, rec, in, s, now)
		switch {
		case err != nil:
			return err
		case ok:
			c = cc
		default:
			next, replies, effects = d.engine.Step(s, in, now)
			var change caseChange
			if replies, change, err = d.cases.plan(ctx, pid, rec, in, s, &next, replies, effects, now, &code); err != nil {
				return err
			}
			if c, err = d.commit(pid, rec, in, next, replies, effects, now); err != nil {
				return err
			}
			if err := change.apply(&c, rec, in.Channel); err != nil {
				return err
			}
		}
		c.Counts = append(c.Counts, "in."+string(in.Channel))
		if d.known != nil && c.Version == 0 {
			// A new session starts at a random version, so that no version
			// a replica remembers can come back after an erase.
			c.Start = 1<<20 + rand.Int64N(1<<40)
		}
		outcome, claimed, err := d.commitClaim(ctx, c)
		if err != nil {
			return err
		}
		if len(claimed) > 0 {
			d.courier.Hand(claimed)
		}
		d.remember(pid, rec, c, outcome)
		switch outcome {
		case store.Duplicate:
			d.log.Debug("duplicate message ignored", "pid", pid, "channel", in.Channel)
			return nil
		case store.Committed:
			d.log.Debug("message handled", "pid", pid, "channel", in.Channel, "replies", len(c.Out))
			return nil
		}
	}
	return ErrContention
}

// Remember makes the dispatcher keep the last record it committed for up
// to n people, so that their next message costs one Redis round trip
// instead of two. It is safe with several replicas: a record that changed
// elsewhere fails the commit's version check, and the dispatcher reads it
// then. Call it before the first message.
func (d *Dispatcher) Remember(n int) {
	d.known = make([]map[string]store.Record, stripes)
	for i := range d.known {
		d.known[i] = map[string]store.Record{}
	}
	d.knownMax = max(n/stripes, 1)
}

// remembered returns the record kept for pid, on the first attempt only:
// after a conflict the dispatcher reads.
func (d *Dispatcher) remembered(pid string, attempt int) (store.Record, bool) {
	if d.known == nil || attempt > 0 {
		return store.Record{}, false
	}
	rec, ok := d.known[stripe(pid)][pid]
	return rec, ok
}

// remember keeps the record a commit wrote, when the dispatcher knows all of
// it: a session written with no change to the case. Anything else (an
// erase, a case change, a conflict) forgets the person here.
func (d *Dispatcher) remember(pid string, rec store.Record, c store.Commit, outcome store.Outcome) {
	if d.known == nil {
		return
	}
	m := d.known[stripe(pid)]
	if outcome != store.Committed || c.Session == nil || c.Case != nil {
		delete(m, pid)
		return
	}
	if _, ok := m[pid]; !ok && len(m) >= d.knownMax {
		for k := range m { // forget one, any one
			delete(m, k)
			break
		}
	}
	next := rec
	next.Session, next.Address, next.Version = c.Session, c.Address, c.Version+1
	if c.Version == 0 && c.Start > 0 {
		next.Version = c.Start
	}
	m[pid] = next
}

// SendVia makes the dispatcher claim the outbox entries of its commits for
// the courier, which sends them at once; without it they wait for a reader.
// Call it before the first message.
func (d *Dispatcher) SendVia(c Courier) { d.courier = c }

func (d *Dispatcher) commitClaim(ctx context.Context, c store.Commit) (store.Outcome, []store.Message, error) {
	if d.courier == nil {
		o, err := d.store.Commit(ctx, c)
		return o, nil, err
	}
	part := d.store.Partition(c.PID)
	c.Done = d.courier.Finished(part)
	o, claimed, err := d.store.CommitClaim(ctx, c, d.courier.Consumer())
	if err != nil && len(c.Done) > 0 {
		d.courier.Unfinished(part, c.Done)
	}
	return o, claimed, err
}

// session decodes a stored session and merges the case mark into it: the
// mark, kept beside the session, is what the queue changes.
func (d *Dispatcher) session(pid string, rec store.Record) bot.Session {
	var s bot.Session
	if rec.Session != nil {
		if err := s.UnmarshalBinary(rec.Session); err != nil {
			d.log.Warn("session unreadable, starting anew", "pid", pid)
			s = bot.Session{}
		}
	}
	s.Case, s.Held = parseMark(rec.Case)
	return s
}

// stripe picks the lock of a person ID.
func stripe(pid string) int {
	h := fnv.New32a()
	h.Write([]byte(pid))
	return int(h.Sum32() % stripes)
}

// commit turns one step into what the store writes.
func (d *Dispatcher) commit(pid string, rec store.Record, in bot.Inbound, s bot.Session, replies []bot.Reply, effects []bot.Effect, now time.Time) (store.Commit, error) {
	c := store.Commit{PID: pid, Version: rec.Version, MsgID: in.ID, Now: now, Address: rec.Address}
	if c.Address == nil {
		c.Address = d.keys.Seal([]byte(in.Address), pid)
	}
	erase := false
	for _, e := range effects {
		switch e.Kind {
		case bot.Erase:
			erase = true
			c.Counts = append(c.Counts, "erase")
		case bot.Count:
			c.Counts = append(c.Counts, "tag."+e.Name)
		case bot.Problem:
			d.log.Error("flow problem", "pid", pid, "problem", e.Name)
			c.Counts = append(c.Counts, "problem."+e.Name)
		case bot.Handoff:
			c.Counts = append(c.Counts, "handoff."+e.Priority.String())
		}
	}
	if !erase {
		s.Case, s.Held = "", false // the mark beside the session holds them
		b, err := s.MarshalBinary()
		if err != nil {
			return c, fmt.Errorf("encode session: %w", err)
		}
		c.Session = b
	}
	ref := in.Ref
	for _, r := range replies {
		b, err := r.MarshalBinary()
		if err != nil {
			return c, fmt.Errorf("encode reply: %w", err)
		}
		c.Out = append(c.Out, store.Entry{Channel: string(in.Channel), Reply: b, Ref: ref, Final: erase})
		ref = "" // the reference is the first reply's: a tapped message is replaced once
	}
	return c, nil
}
