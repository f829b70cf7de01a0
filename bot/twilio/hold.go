package twilio

import (
	"context"
	"sync"
	"time"

	"github.com/helpline/helpline/bot"
)

// A message is handed on (committed) before its webhook is answered 200, so
// that a failure leaves Twilio's retry to bring it again. But Twilio retries
// only as the webhook URL's connection overrides allow (#rc=…, 15 s at most
// in all), and without them not at all: a Redis outage longer than that
// would lose the SMS of a person who may be in danger.
//
// So a message that could not be handed on is also held here, in memory,
// and handed on again until it goes through. Whichever comes first, Twilio's
// retry (on any replica) or this replica's, commits it; the other is known
// by its MessageSid and ignored. A person's messages go in the order they
// came: one that comes while earlier ones are held waits behind them.
//
// What it cannot promise: a replica that dies, or stops, before Redis is
// back loses what it holds, and says how many in its log.

// The limits of the hold: the messages kept at most, and how long one is
// tried before it is given up. A reply hours late still brings the numbers
// and a counsellor to someone in danger.
const (
	maxHeld  = 10_000
	holdTime = 6 * time.Hour
)

// The retry delays: the first, after a failed round the next doubles up to
// the last.
const (
	retryFirst = time.Second
	retryMax   = 10 * time.Second
)

// tryTimeout bounds one attempt to hand on a held message, so that a stalled
// Redis does not stop the retries.
const tryTimeout = 10 * time.Second

// hold keeps the messages not yet handed on, by person, oldest first.
type hold struct {
	mu     sync.Mutex
	people map[string][]heldMessage
	n      int
	wake   chan struct{}
}

type heldMessage struct {
	in     bot.Inbound
	optOut string // the webhook's OptOutType
	since  time.Time
}

func newHold() *hold {
	return &hold{people: map[string][]heldMessage{}, wake: make(chan struct{}, 1)}
}

// waiting reports whether messages of pid are held: a new one must wait
// behind them.
func (h *hold) waiting(pid string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.people[pid]) > 0
}

// add holds a message behind the person's others. A message held already
// (Twilio's retry of it) is not held twice. It reports false when the hold
// is full.
func (h *hold) add(pid string, m heldMessage) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, o := range h.people[pid] {
		if o.in.ID == m.in.ID {
			return true
		}
	}
	if h.n >= maxHeld {
		return false
	}
	h.people[pid] = append(h.people[pid], m)
	h.n++
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return true
}

// first returns the oldest message held of pid.
func (h *hold) first(pid string) (heldMessage, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ms := h.people[pid]
	if len(ms) == 0 {
		return heldMessage{}, false
	}
	return ms[0], true
}

// done lets go of the oldest message held of pid.
func (h *hold) done(pid string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ms := h.people[pid]
	if len(ms) == 0 {
		return
	}
	h.n--
	if len(ms) == 1 {
		delete(h.people, pid)
		return
	}
	h.people[pid] = ms[1:]
}

// pids lists the people with messages held.
func (h *hold) pids() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.people))
	for pid := range h.people {
		out = append(out, pid)
	}
	return out
}

// count returns how many messages are held.
func (h *hold) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// Run hands on the messages held until ctx ends; then it tries once more,
// briefly, and logs how many it had to leave.
func (c *Channel) Run(ctx context.Context) {
	delay := retryFirst
	failing := false
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		wake := c.hold.wake
		if failing {
			wake = nil // a message held in an outage waits for the next round
		}
		select {
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			c.handOnHeld(last)
			cancel()
			if n := c.hold.count(); n > 0 {
				c.log.Error("twilio messages held were never handed on: the replica stopped before Redis answered", "messages", n)
			}
			return
		case <-wake:
		case <-timer.C:
		}
		switch ok := c.handOnHeld(ctx); {
		case ok:
			delay, failing = retryFirst, false
		case failing:
			delay = min(2*delay, retryMax)
		default:
			failing = true
		}
		timer.Reset(delay)
	}
}

// handOnHeld hands on every message held, each person's in order, and
// reports whether all went. It stops at the first that fails: the others
// would fail as it did.
func (c *Channel) handOnHeld(ctx context.Context) bool {
	for _, pid := range c.hold.pids() {
		for {
			m, ok := c.hold.first(pid)
			if !ok {
				break
			}
			if time.Since(m.since) > holdTime {
				c.hold.done(pid)
				c.log.Error("twilio message held too long, given up", "pid", pid, "held", holdTime)
				continue
			}
			tctx, cancel := context.WithTimeout(ctx, tryTimeout)
			err := c.take(tctx, m.in, m.optOut)
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					c.log.Debug("twilio message still held", "pid", pid, "err", err)
				}
				return false
			}
			c.hold.done(pid)
			c.log.Info("twilio message held, now handed on", "pid", pid, "after", time.Since(m.since).Round(time.Millisecond))
		}
	}
	return true
}
