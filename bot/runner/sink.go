package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/store"
)

// RawSender is a sender that takes outbox entries as they are stored:
// the counsellor queue, which needs the sealed address, not the opened one.
type RawSender interface {
	SendRaw(ctx context.Context, m store.Message) error
}

// Send refuses: the queue takes entries through SendRaw only.
func (k *Cases) Send(ctx context.Context, out bot.Outgoing) error {
	return fmt.Errorf("the queue takes raw entries: %w", bot.ErrPermanent)
}

// SendRaw applies one CaseChannel entry to the queue. Every operation is
// idempotent: an entry delivered twice changes the queue once.
func (k *Cases) SendRaw(ctx context.Context, m store.Message) error {
	var op caseOp
	if err := json.Unmarshal(m.Reply, &op); err != nil || op.Code == "" {
		return fmt.Errorf("case entry: %w", bot.ErrPermanent)
	}
	now := k.d.now()
	var err error
	switch op.Op {
	case "open":
		err = k.enqueue(ctx, m, op, now)
	case "raise":
		err = k.q.Raise(ctx, op.Code, op.Prio, op.Flags)
	case "close":
		err = k.q.Close(ctx, op.Code, op.Wrap, false, now)
	case "forget":
		err = k.q.Close(ctx, op.Code, "erased", true, now)
	case "relay":
	default:
		return fmt.Errorf("case entry %q: %w", op.Op, bot.ErrPermanent)
	}
	if err != nil {
		return err
	}
	k.notify(ctx, "case "+op.Code)
	if op.Op != "relay" {
		k.notify(ctx, "queue")
	}
	return nil
}

// notify tells the consoles; a lost note costs a console one refresh.
func (k *Cases) notify(ctx context.Context, note string) {
	if err := k.q.NotifyConsole(ctx, note); err != nil {
		k.log.Warn("console not notified", "err", err)
	}
}

// enqueue queues a new case and tells the person their place.
func (k *Cases) enqueue(ctx context.Context, m store.Message, op caseOp, now time.Time) error {
	qc := store.QueueCase{
		Code: op.Code, PID: m.PID, Lang: op.Lang, Channel: op.Channel, Priority: op.Prio,
		Topic: op.Topic, Flags: op.Flags, Created: time.UnixMilli(op.Created),
	}
	added, err := k.q.Enqueue(ctx, qc)
	if err != nil || !added {
		return err
	}
	k.log.Info("case queued", "case", op.Code, "pid", m.PID, "priority", bot.Priority(op.Prio).String())
	ws, err := k.q.Waiting(ctx)
	if err != nil {
		return err
	}
	place := placeOf(ws, op.Code)
	if place == 0 {
		return nil
	}
	if _, err := k.q.TakeNotice(ctx, op.Code, place, 0, now); err != nil {
		return err
	}
	return k.tell(ctx, qc, m.Address, k.placeReply(ctx, qc.Lang, place))
}

func placeOf(ws []store.QueueCase, code string) int {
	for i, c := range ws {
		if c.Code == code {
			return i + 1
		}
	}
	return 0
}

// placeReply says the person's place and an estimated wait, with the
// choice to cancel.
func (k *Cases) placeReply(ctx context.Context, lang string, place int) bot.Reply {
	per, ok, err := k.q.AverageWait(ctx)
	if err != nil || !ok || per <= 0 {
		per = k.opts.DefaultWait
	}
	minutes := max(1, int((per*time.Duration(place)+time.Minute-1)/time.Minute))
	text, _ := k.words.Text(lang, "queue.place", map[string]string{"place": fmt.Sprint(place)}, &minutes)
	return bot.Reply{Text: text, Choices: []bot.Choice{{ID: ChoiceCancel, Label: k.text(lang, "queue.cancel")}}}
}

// tell sends a reply to the person of a case, on their channel.
func (k *Cases) tell(ctx context.Context, qc store.QueueCase, address []byte, r bot.Reply) error {
	b, err := r.MarshalBinary()
	if err != nil {
		return err
	}
	return k.q.Append(ctx, qc.PID, address, store.Entry{Channel: qc.Channel, Reply: b})
}

// Run looks at the waiting cases every Tick until ctx ends: it tells people
// their new place, at most once per NoticeGap, and tells them once, after
// Unclaimed, that nobody is free yet. Several replicas may run it: the
// store lets one of them send each notice.
func (k *Cases) Run(ctx context.Context) {
	t := time.NewTicker(k.opts.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.Tick(ctx); err != nil && ctx.Err() == nil {
				k.log.Warn("queue notices failed", "err", err)
			}
		}
	}
}

// Tick looks at the waiting cases once.
func (k *Cases) Tick(ctx context.Context) error {
	ws, err := k.q.Waiting(ctx)
	if err != nil {
		return err
	}
	now := k.d.now()
	for i, qc := range ws {
		var r bot.Reply
		switch {
		case now.Sub(qc.Created) >= k.opts.Unclaimed:
			ok, err := k.q.TakeTimeout(ctx, qc.Code)
			if err != nil || !ok {
				continue
			}
			r = bot.Reply{Text: k.text(qc.Lang, "queue.unclaimed"), Choices: []bot.Choice{
				{ID: ChoiceWait, Label: k.text(qc.Lang, "queue.keep")},
				{ID: ChoiceCancel, Label: k.text(qc.Lang, "queue.cancel")},
			}}
		default:
			ok, err := k.q.TakeNotice(ctx, qc.Code, i+1, k.opts.NoticeGap, now)
			if err != nil || !ok {
				continue
			}
			r = k.placeReply(ctx, qc.Lang, i+1)
		}
		if err := k.notice(ctx, qc, r, now); err != nil {
			return err
		}
	}
	return nil
}

// notice sends a notice to a waiting person, or closes a case whose person
// no longer waits for it (erased, or the session expired).
func (k *Cases) notice(ctx context.Context, qc store.QueueCase, r bot.Reply, now time.Time) error {
	rec, err := k.d.store.Load(ctx, qc.PID)
	if err != nil {
		return err
	}
	if code, _ := parseMark(rec.Case); code != qc.Code || rec.Address == nil {
		k.log.Info("case closed: the person no longer waits", "case", qc.Code)
		err := k.q.Close(ctx, qc.Code, "gone", false, now)
		k.notify(ctx, "queue")
		return err
	}
	return k.tell(ctx, qc, rec.Address, r)
}

// ErrCaseGone means the person's side of a case is gone: they erased the
// chat, cancelled, or the case ended.
var ErrCaseGone = errors.New("the person's case is gone")
