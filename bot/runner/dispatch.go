// Package runner is the host of the conversation engine. A person's message
// and a counsellor's action take the same path (Dispatcher): the person's
// session is read, the engine steps, what the step does to the person's
// case is planned, and everything is committed to Redis in one atomic
// write, with the replies and the queue's operations in the outbox.
// Delivery drains the outbox: replies go to the channels' senders, queue
// operations to the Queue, which applies them to the counsellor queue. The
// Ticker tells waiting people their place; the Desk is what the console
// does with cases.
//
// A handoff in one pass: the person taps "talk to a counsellor"; the
// engine ends the intake with a Handoff effect and puts the session's case
// in the Waiting state; plan reserves a code and writes the sealed card and
// an "open" operation; the commit stores the session, the case and the
// operation at once; delivery hands the operation to Queue.Apply, which
// enqueues the case, tells the console, and tells the person their place.
// From then on everything the person writes is relayed to the case by the
// engine (Relay effects), planned into transcript lines, and committed the
// same way. A counsellor's claim is Desk.Claim: the queue's claim, then an
// Act through the dispatcher, in which the engine puts the case in the
// Held state and tells the person.
package runner

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"strings"
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
	CommitClaim(ctx context.Context, c store.Commit, consumer string) (store.Outcome, []store.Message, error)
	Partition(pid string) int
	// Reserve claims a case code for the person; false means it is taken.
	Reserve(ctx context.Context, code, pid string) (bool, error)
	// SessionTTL and CaseTTL are how long an open and an ended case are
	// kept: the person's case keys live as long.
	SessionTTL() time.Duration
	CaseTTL() time.Duration
}

// Courier takes outbox entries a commit claimed for this replica and sends
// them; Delivery is one. A commit also removes the entries of its partition
// the courier finished, and tells it whether it did.
type Courier interface {
	Consumer() string
	Hand(msgs []store.Message)
	Finished(part int) []store.Sent
	Unfinished(part int, sent []store.Sent)
	Removed(part int, sent []store.Sent)
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

// Config is what a dispatcher is made of.
type Config struct {
	Engine *flow.Engine
	Store  Store
	Keys   *secret.Keys
	Log    *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Courier, when set, is handed the outbox entries of each commit to
	// send at once; without one they wait for a reader.
	Courier Courier
	// Remember keeps the last committed record of up to this many people,
	// so that their next message costs one Redis round trip instead of
	// two. It is safe with several replicas: a record that changed
	// elsewhere fails the commit's version check, and the dispatcher reads
	// it then. Zero remembers nothing.
	Remember int
	// Meter is told of messages, commits and alarms; nil meters nothing.
	Meter Meter
}

// Dispatcher runs people's messages and counsellors' actions through the
// engine and commits them.
type Dispatcher struct {
	engine  *flow.Engine
	store   Store
	keys    *secret.Keys
	log     *slog.Logger
	now     func() time.Time
	courier Courier
	meter   Meter
	locks   [stripes]sync.Mutex
	// known remembers, per stripe and guarded by its lock, the records this
	// replica committed last. Nil when off.
	known    []map[string]store.Record
	knownMax int
}

// NewDispatcher makes a dispatcher.
func NewDispatcher(c Config) *Dispatcher {
	d := &Dispatcher{engine: c.Engine, store: c.Store, keys: c.Keys, log: c.Log, now: c.Now, courier: c.Courier, meter: c.Meter}
	if d.now == nil {
		d.now = time.Now
	}
	if d.meter == nil {
		d.meter = nopMeter{}
	}
	if c.Remember > 0 {
		d.known = make([]map[string]store.Record, stripes)
		for i := range d.known {
			d.known[i] = map[string]store.Record{}
		}
		d.knownMax = max(c.Remember/stripes, 1)
	}
	return d
}

// PersonID returns the pseudonymous ID of the sender of in.
func (d *Dispatcher) PersonID(in bot.Inbound) string { return d.keys.PersonID(in.Channel, in.Address) }

// Handle takes one message of a person. When it returns nil the message's
// effect is committed (or it was a duplicate, already committed): a webhook
// may answer 2xx then. Two messages of one person are never both applied to
// the same session version.
func (d *Dispatcher) Handle(ctx context.Context, in bot.Inbound) error {
	return d.run(ctx, d.PersonID(in), in, nil)
}

// Action is something a counsellor does to a person's case, committed on
// the person's side like a message.
type Action struct {
	Event bot.Event
	// Code is the case acted on: the action fails with bot.ErrCaseGone
	// when the person's open case is another, or none.
	Code    string
	Channel bot.Channel
	// Text is what the counsellor wrote, for CounsellorSaid.
	Text string
	// Who and Line are the transcript line the action adds, if any: Who is
	// "c:<name>" or "s".
	Who, Line string
	// Fields are set on the person's case hash (sealed by the caller).
	Fields []string
	// ID, when set, makes the action idempotent: the same ID twice commits
	// once.
	ID string
	// Counts are the aggregate counters the action adds.
	Counts []string
}

// Act commits a counsellor's action on the person's side.
func (d *Dispatcher) Act(ctx context.Context, pid string, a Action) error {
	in := bot.Inbound{Event: a.Event, Channel: a.Channel, Text: a.Text}
	if a.ID != "" {
		in.ID = "c-" + a.ID
	}
	return d.run(ctx, pid, in, &a)
}

// run is the one commit path: read (or remember) the record, step, plan
// the case change, commit; read again and step again on a conflict.
func (d *Dispatcher) run(ctx context.Context, pid string, in bot.Inbound, act *Action) error {
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
		if act != nil && (rec.Session == nil || rec.Address == nil || s.Case.Code != act.Code) {
			return bot.ErrCaseGone
		}
		now := d.now()
		next, replies, effects := d.engine.Step(s, in, now)
		p := planner{keys: d.keys, pid: pid, sessionTTL: d.store.SessionTTL(), caseTTL: d.store.CaseTTL(), reserve: d.reserver(ctx, pid, &code)}
		change, err := p.plan(rec, in, s, &next, effects, now)
		if err != nil {
			return err
		}
		if act != nil {
			change.act(p, *act)
		}
		c, err := d.commit(pid, rec, in, next, replies, effects, now)
		if err != nil {
			return err
		}
		if err := change.apply(&c); err != nil {
			return err
		}
		if in.Event == bot.Message {
			c.Counts = append(c.Counts, "in."+string(in.Channel))
		}
		if d.known != nil && c.Version == 0 {
			// A new session starts at a random version, so that no version
			// a replica remembers can come back after an erase.
			c.Start = 1<<20 + rand.Int64N(1<<40)
		}
		start := time.Now()
		outcome, claimed, err := d.commitClaim(ctx, c)
		if err != nil {
			return err
		}
		d.meter.Committed(time.Since(start))
		if len(claimed) > 0 {
			d.courier.Hand(claimed)
		}
		d.remember(pid, rec, c, outcome)
		switch outcome {
		case store.Duplicate:
			d.log.Debug("duplicate message ignored", "pid", pid, "channel", in.Channel)
			if in.Event == bot.Message {
				d.meter.Received(in.Channel, true)
			}
			return nil
		case store.Committed:
			d.log.Debug("message handled", "pid", pid, "channel", in.Channel, "replies", len(c.Out))
			d.metered(in, next.Lang, effects)
			return nil
		}
	}
	return ErrContention
}

// metered tells the meter of a committed step: the person's message, and
// the alarms it raised.
func (d *Dispatcher) metered(in bot.Inbound, lang string, effects []bot.Effect) {
	if in.Event == bot.Message {
		d.meter.Received(in.Channel, false)
	}
	for _, e := range effects {
		if e.Kind == bot.Alert {
			kind, _, _ := strings.Cut(e.Name, ".")
			d.meter.Alarm(kind, lang)
		}
	}
}

// reserver reserves a case code for pid once per message: a retry after a
// conflict keeps the code an earlier attempt reserved.
func (d *Dispatcher) reserver(ctx context.Context, pid string, code *string) func() (string, error) {
	return func() (string, error) {
		if *code != "" {
			return *code, nil
		}
		for range 10 {
			c := newCode()
			ok, err := d.store.Reserve(ctx, c, pid)
			if err != nil {
				return "", err
			}
			if ok {
				*code = c
				return c, nil
			}
		}
		return "", fmt.Errorf("reserve case code: ten codes taken in a row")
	}
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

// remember keeps the record a commit wrote. Anything but a committed
// session (an erase, a conflict, a duplicate) forgets the person here.
func (d *Dispatcher) remember(pid string, rec store.Record, c store.Commit, outcome store.Outcome) {
	if d.known == nil {
		return
	}
	m := d.known[stripe(pid)]
	if outcome != store.Committed || c.Session == nil {
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
	if c.Case != nil && len(c.Case.Kept) > 0 {
		next.Kept = c.Case.Kept
	}
	if c.Version == 0 && c.Start > 0 {
		next.Version = c.Start
	}
	m[pid] = next
}

func (d *Dispatcher) commitClaim(ctx context.Context, c store.Commit) (store.Outcome, []store.Message, error) {
	if d.courier == nil {
		o, _, err := d.store.CommitClaim(ctx, c, "")
		return o, nil, err
	}
	part := d.store.Partition(c.PID)
	c.Done = d.courier.Finished(part)
	o, claimed, err := d.store.CommitClaim(ctx, c, d.courier.Consumer())
	switch {
	case len(c.Done) == 0:
	case err != nil:
		d.courier.Unfinished(part, c.Done)
	default:
		d.courier.Removed(part, c.Done)
	}
	return o, claimed, err
}

// session opens and decodes a stored session.
func (d *Dispatcher) session(pid string, rec store.Record) bot.Session {
	s, err := openSession(d.keys, pid, rec)
	if err != nil {
		d.log.Warn("session unreadable, starting anew", "pid", pid)
	}
	return s
}

// openSession opens a session stored sealed. A record with no session is
// the empty session; one that does not open or decode is an error.
func openSession(keys *secret.Keys, pid string, rec store.Record) (bot.Session, error) {
	var s bot.Session
	if rec.Session == nil {
		return s, nil
	}
	b, err := keys.Open(rec.Session, pid)
	if err == nil {
		err = s.UnmarshalBinary(b)
	}
	if err != nil {
		return bot.Session{}, err
	}
	return s, nil
}

// stripe picks the lock of a person ID.
func stripe(pid string) int {
	h := fnv.New32a()
	h.Write([]byte(pid))
	return int(h.Sum32() % stripes)
}

// commit turns one step into what the store writes.
func (d *Dispatcher) commit(pid string, rec store.Record, in bot.Inbound, s bot.Session, replies []bot.Reply, effects []bot.Effect, now time.Time) (store.Commit, error) {
	c := store.Commit{PID: pid, Version: rec.Version, Now: now, Address: rec.Address, Kept: rec.Kept}
	if in.ID != "" {
		c.MsgID = d.keys.Mark(pid, in.ID)
		if in.Seq > 0 {
			w, bit := d.keys.SeenBit(d.store.Partition(pid), in.Seq)
			c.Seen = &store.SeenBit{Window: w, Bit: bit}
		}
	}
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
		b, err := s.MarshalBinary()
		if err != nil {
			return c, fmt.Errorf("encode session: %w", err)
		}
		// Sealed like the address: the session holds what the person
		// answered.
		c.Session = d.keys.Seal(b, pid)
	}
	ref := in.Ref
	for _, r := range replies {
		b, err := sealReply(d.keys, pid, r)
		if err != nil {
			return c, err
		}
		c.Out = append(c.Out, store.Entry{Channel: string(in.Channel), Reply: b, Ref: ref, Final: erase})
		ref = "" // the reference is the first reply's: a tapped message is replaced once
	}
	return c, nil
}
