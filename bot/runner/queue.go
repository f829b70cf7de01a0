package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/store"
)

// QueueStore is what applying operations needs of the store's queue.
type QueueStore interface {
	Enqueue(ctx context.Context, c bot.Case) (bool, error)
	Raise(ctx context.Context, code string, p bot.Priority, flags []string) error
	Close(ctx context.Context, code, wrap string, forget bool, now time.Time) error
	Waiting(ctx context.Context) ([]bot.Case, error)
	AverageWait(ctx context.Context) (time.Duration, bool, error)
	TakeNotice(ctx context.Context, code string, place int, gap time.Duration, now time.Time) (bool, error)
	Append(ctx context.Context, pid string, address []byte, entries ...store.Entry) error
	NotifyConsole(ctx context.Context, note string) error
}

// Words renders the messages the queue says on its own.
type Words interface {
	Text(lang, id string, vars map[string]string, count *int) (string, bool)
}

// QueueOptions tune what the queue says and when. Zero values take the
// defaults.
type QueueOptions struct {
	// DefaultWait is the wait per place assumed before any case was
	// claimed. Default 5 minutes.
	DefaultWait time.Duration
	// NoticeGap is the least time between two notices of a new place in
	// the queue. Default one minute.
	NoticeGap time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o *QueueOptions) defaults() {
	if o.DefaultWait <= 0 {
		o.DefaultWait = 5 * time.Minute
	}
	if o.NoticeGap <= 0 {
		o.NoticeGap = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Queue applies the queue operations that steps commit to the outbox, and
// tells the people of the cases what the queue knows: their place.
type Queue struct {
	q     QueueStore
	keys  *secret.Keys
	words Words
	log   *slog.Logger
	opts  QueueOptions
}

// NewQueue makes the applier of queue operations.
func NewQueue(q QueueStore, keys *secret.Keys, words Words, log *slog.Logger, opts QueueOptions) *Queue {
	opts.defaults()
	return &Queue{q: q, keys: keys, words: words, log: log, opts: opts}
}

// Apply carries out one queue operation of the outbox. Every operation is
// idempotent: an entry delivered twice changes the queue once. An entry
// that cannot be read fails for good.
func (k *Queue) Apply(ctx context.Context, m store.Message) error {
	var o op
	if err := json.Unmarshal(m.Op, &o); err != nil || o.Code == "" {
		return fmt.Errorf("queue operation: %w", bot.ErrPermanent)
	}
	now := k.opts.Now()
	var err error
	switch o.Op {
	case "open":
		err = k.enqueue(ctx, m, o)
	case "raise":
		err = k.q.Raise(ctx, o.Code, o.Priority, o.Flags)
	case "close":
		err = k.q.Close(ctx, o.Code, o.Wrap, false, now)
	case "forget":
		err = k.q.Close(ctx, o.Code, bot.LeftErased, true, now)
	case "place":
		err = k.tellPlace(ctx, m, o.Code, 0)
	case "relay":
	default:
		return fmt.Errorf("queue operation %q: %w", o.Op, bot.ErrPermanent)
	}
	if err != nil {
		return err
	}
	k.notify(ctx, "case "+o.Code)
	if o.Op != "relay" && o.Op != "place" {
		k.notify(ctx, "queue")
	}
	return nil
}

// notify tells the consoles; a lost note costs a console one refresh.
func (k *Queue) notify(ctx context.Context, note string) {
	if err := k.q.NotifyConsole(ctx, note); err != nil {
		k.log.Warn("console not notified", "err", err)
	}
}

// enqueue queues a new case and tells the person their place.
func (k *Queue) enqueue(ctx context.Context, m store.Message, o op) error {
	qc := bot.Case{
		Code: o.Code, PID: m.PID, Lang: o.Lang, Channel: o.Channel, Priority: o.Priority,
		Topic: o.Topic, Flags: o.Flags, Created: time.UnixMilli(o.Created),
	}
	added, err := k.q.Enqueue(ctx, qc)
	if err != nil || !added {
		return err
	}
	k.log.Info("case queued", "case", k.keys.CaseRef(o.Code), "priority", o.Priority.String())
	return k.tellPlace(ctx, m, o.Code, 0)
}

// tellPlace tells the person of a waiting case their place, unless they
// were told within gap.
func (k *Queue) tellPlace(ctx context.Context, m store.Message, code string, gap time.Duration) error {
	ws, err := k.q.Waiting(ctx)
	if err != nil {
		return err
	}
	place, qc := placeOf(ws, code)
	if place == 0 {
		return nil
	}
	if ok, err := k.q.TakeNotice(ctx, code, place, gap, k.opts.Now()); err != nil || !ok {
		return err
	}
	return k.tell(ctx, qc, m.Address, k.placeReply(ctx, qc.Lang, qc.Channel, place))
}

func placeOf(ws []bot.Case, code string) (int, bot.Case) {
	for i, c := range ws {
		if c.Code == code {
			return i + 1, c
		}
	}
	return 0, bot.Case{}
}

// placeReply says the person's place and an estimated wait, with the
// choice to cancel. The words may differ by channel (queue.place.web): a
// closed web chat tab cannot receive the answer, an app can.
func (k *Queue) placeReply(ctx context.Context, lang string, ch bot.Channel, place int) bot.Reply {
	per, ok, err := k.q.AverageWait(ctx)
	if err != nil || !ok || per <= 0 {
		per = k.opts.DefaultWait
	}
	minutes := max(1, int((per*time.Duration(place)+time.Minute-1)/time.Minute))
	vars := map[string]string{"place": fmt.Sprint(place)}
	text, ok := k.words.Text(lang, "queue.place."+string(ch), vars, &minutes)
	if !ok {
		text, _ = k.words.Text(lang, "queue.place", vars, &minutes)
	}
	return bot.Reply{Text: text, Choices: []bot.Choice{{ID: flow.CancelChoice, Label: k.text(lang, "queue.cancel")}}}
}

func (k *Queue) text(lang, id string) string {
	s, _ := k.words.Text(lang, id, nil, nil)
	return s
}

// tell sends a reply to the person of a case, on their channel.
func (k *Queue) tell(ctx context.Context, qc bot.Case, address []byte, r bot.Reply) error {
	b, err := sealReply(k.keys, qc.PID, r)
	if err != nil {
		return err
	}
	return k.q.Append(ctx, qc.PID, address, store.Entry{Channel: string(qc.Channel), Reply: b})
}
