package runner

import (
	"context"
	"log/slog"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/store"
)

// TickerStore is what the ticker needs of the store.
type TickerStore interface {
	QueueStore
	TakeTimeout(ctx context.Context, code string) (bool, error)
	Load(ctx context.Context, pid string) (store.Record, error)
}

// Ticker looks at the waiting cases now and then: it tells people their new
// place, at most once per NoticeGap, and tells them once, after Unclaimed,
// that nobody is free yet. Several replicas may run it: the store lets one
// of them send each notice.
type Ticker struct {
	q         *Queue
	keys      *secret.Keys
	st        TickerStore
	log       *slog.Logger
	unclaimed time.Duration
	every     time.Duration
}

// NewTicker makes a ticker that looks every Tick and tells a person waiting
// past unclaimed that nobody is free yet.
func NewTicker(q *Queue, st TickerStore, keys *secret.Keys, log *slog.Logger, unclaimed, every time.Duration) *Ticker {
	return &Ticker{q: q, st: st, keys: keys, log: log, unclaimed: unclaimed, every: every}
}

// Run ticks until ctx ends.
func (t *Ticker) Run(ctx context.Context) {
	tk := time.NewTicker(t.every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			if err := t.Tick(ctx); err != nil && ctx.Err() == nil {
				t.log.Warn("queue notices failed", "err", err)
			}
		}
	}
}

// Tick looks at the waiting cases once.
func (t *Ticker) Tick(ctx context.Context) error {
	ws, err := t.st.Waiting(ctx)
	if err != nil {
		return err
	}
	k := t.q
	now := k.opts.Now()
	for i, qc := range ws {
		var r bot.Reply
		switch {
		case now.Sub(qc.Created) >= t.unclaimed:
			ok, err := t.st.TakeTimeout(ctx, qc.Code)
			if err != nil || !ok {
				continue
			}
			r = bot.Reply{Text: k.text(qc.Lang, "queue.unclaimed"), Choices: []bot.Choice{
				{ID: flow.KeepChoice, Label: k.text(qc.Lang, "queue.keep")},
				{ID: flow.CancelChoice, Label: k.text(qc.Lang, "queue.cancel")},
			}}
		default:
			ok, err := t.st.TakeNotice(ctx, qc.Code, i+1, k.opts.NoticeGap, now)
			if err != nil || !ok {
				continue
			}
			r = k.placeReply(ctx, qc.Lang, qc.Channel, i+1)
		}
		if err := t.notice(ctx, qc, r, now); err != nil {
			return err
		}
	}
	return nil
}

// notice sends a notice to a waiting person, or closes a case whose person
// no longer waits for it (erased, or the session expired).
func (t *Ticker) notice(ctx context.Context, qc bot.Case, r bot.Reply, now time.Time) error {
	rec, err := t.st.Load(ctx, qc.PID)
	if err != nil {
		return err
	}
	s, err := openSession(t.keys, qc.PID, rec)
	if rec.Session == nil || rec.Address == nil || err != nil || s.Case.Code != qc.Code {
		t.log.Info("case closed: the person no longer waits", "case", t.keys.CaseRef(qc.Code))
		err := t.st.Close(ctx, qc.Code, bot.LeftGone, false, now)
		t.q.notify(ctx, "queue")
		return err
	}
	return t.q.tell(ctx, qc, rec.Address, r)
}
