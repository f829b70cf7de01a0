package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/store"
)

// Outbox is what delivery needs of the store.
type Outbox interface {
	Partitions() int
	EnsureGroups(ctx context.Context) error
	ReadOutbox(ctx context.Context, part int, consumer string, count int64, block time.Duration) ([]store.Message, error)
	ClaimOutbox(ctx context.Context, part int, consumer string, minIdle time.Duration, count int64) ([]store.Message, error)
	Done(ctx context.Context, part int, ids ...string) error
	DoneMany(ctx context.Context, ids map[int][]string) error
	Count(ctx context.Context, part int, name string, now time.Time) error
}

// DeliveryOptions tune delivery. Zero values take the defaults.
type DeliveryOptions struct {
	// Consumer names this replica in the outbox consumer group; it must
	// differ between replicas.
	Consumer string
	// Tries is how often one hand-over retries a send before leaving the
	// entry for a later claim. Default 4.
	Tries int
	// Backoff is the first retry delay; it doubles per try. Default 200ms.
	Backoff time.Duration
	// MaxWait is the longest delay waited in place; a longer retry-after
	// leaves the entry to be claimed later. Default 5s.
	MaxWait time.Duration
	// ClaimIdle is how long an entry may sit with a consumer before another
	// takes it over. It must be longer than one hand-over can take (Tries
	// sends and their waits), or two consumers send the same entry. Default
	// 60s.
	ClaimIdle time.Duration
	// MaxDeliveries drops an entry handed over this many times. Default 20.
	MaxDeliveries int64
	// Block is how long one read of an outbox stream waits for an entry;
	// a shutdown waits for it too. Default 2s.
	Block time.Duration
	// Drain bounds how long sends in flight may take after shutdown begins.
	// Default 10s.
	Drain time.Duration
	// Linger is how long a finished entry waits for a commit in its
	// partition to remove it before delivery removes it itself. Default
	// 10ms.
	Linger time.Duration
	// Meter is told of sends, drops and claims; nil meters nothing.
	Meter DeliveryMeter
}

func (o *DeliveryOptions) defaults() {
	if o.Tries <= 0 {
		o.Tries = 4
	}
	if o.Backoff <= 0 {
		o.Backoff = 200 * time.Millisecond
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 5 * time.Second
	}
	if o.ClaimIdle <= 0 {
		o.ClaimIdle = time.Minute
	}
	if o.MaxDeliveries <= 0 {
		o.MaxDeliveries = 20
	}
	if o.Block <= 0 {
		o.Block = 2 * time.Second
	}
	if o.Drain <= 0 {
		o.Drain = 10 * time.Second
	}
	if o.Linger <= 0 {
		o.Linger = 10 * time.Millisecond
	}
	if o.Consumer == "" {
		o.Consumer = "helpline"
	}
	if o.Meter == nil {
		o.Meter = nopMeter{}
	}
}

// Delivery drains the outbox through the channels' senders.
//
// An entry leaves the outbox only after its sender returned: sent, or
// failed for good. A replica that dies mid-batch leaves its entries pending,
// and another claims them after ClaimIdle. The one window for a duplicate is
// a send the provider accepted just before the replica died, before the
// entry was removed. The next commit in the entry's partition removes it in
// its own round trip (Dispatcher.Handle takes Finished); what no commit took
// within Linger is removed in one batch. So the window is at most Linger and
// one Redis round trip.
//
// Entries come three ways: a commit on this replica claims its own entries
// and hands them over (Dispatcher.SendVia), a reader per partition takes
// what other replicas' commits left, and a claim loop takes over entries
// of replicas that died.
type Delivery struct {
	box     Outbox
	keys    *secret.Keys
	senders map[bot.Channel]bot.Sender
	queue   Applier
	log     *slog.Logger
	opts    DeliveryOptions
	sleep   func(ctx context.Context, d time.Duration) bool
	// handed holds, per partition, entries a commit claimed for this
	// replica, for a worker that sends them in order.
	handed []chan []store.Message

	// finished holds, per partition, the IDs of entries sent or dropped
	// and not yet removed from the outbox; wake tells the remover that
	// there are some.
	mu       sync.Mutex
	finished [][]string
	wake     chan struct{}
}

// Applier carries out the queue operations of the outbox: the Queue.
type Applier interface {
	Apply(ctx context.Context, m store.Message) error
}

// NewDelivery makes a delivery loop over the senders, one per channel, and
// the queue, which takes the queue operations (nil when there is none: they
// are dropped). The senders map may be filled in until Run starts.
func NewDelivery(box Outbox, keys *secret.Keys, senders map[bot.Channel]bot.Sender, queue Applier, log *slog.Logger, opts DeliveryOptions) *Delivery {
	opts.defaults()
	d := &Delivery{box: box, keys: keys, senders: senders, queue: queue, log: log, opts: opts, sleep: sleep}
	d.handed = make([]chan []store.Message, box.Partitions())
	d.finished = make([][]string, box.Partitions())
	d.wake = make(chan struct{}, 1)
	for p := range d.handed {
		d.handed[p] = make(chan []store.Message, 256)
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Run delivers until ctx ends, then lets sends in flight finish (for at most
// Drain) and returns.
func (d *Delivery) Run(ctx context.Context) error {
	if err := d.box.EnsureGroups(ctx); err != nil {
		return err
	}
	// The removers outlive the senders, so that every entry sent, even in
	// the drain after ctx ends, is removed.
	var senders, remover sync.WaitGroup
	sent := make(chan struct{})
	remover.Go(func() { d.remove(sent) })
	for p := range d.box.Partitions() {
		senders.Go(func() { d.partition(ctx, p) })
		senders.Go(func() { d.local(ctx, p) })
	}
	senders.Go(func() { d.claim(ctx) })
	senders.Wait()
	close(sent)
	remover.Wait()
	return nil
}

// finish records an entry as sent or dropped, for removal.
func (d *Delivery) finish(part int, id string) {
	d.mu.Lock()
	d.finished[part] = append(d.finished[part], id)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Finished takes the IDs of entries of partition part that were sent or
// dropped, at most store.MaxDone, for a commit in that partition to remove.
// A commit that fails gives them back with Unfinished.
func (d *Delivery) Finished(part int) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	ids := d.finished[part]
	if len(ids) <= store.MaxDone {
		d.finished[part] = nil
		return ids
	}
	d.finished[part] = ids[store.MaxDone:]
	return ids[:store.MaxDone:store.MaxDone]
}

// Unfinished gives back IDs that Finished returned and no commit removed.
func (d *Delivery) Unfinished(part int, ids []string) {
	for _, id := range ids {
		d.finish(part, id)
	}
}

// remove takes out of the outbox the finished entries that no commit took
// within Linger, all partitions in one round trip. Once sent is closed (no
// send is left) it removes the rest and returns.
//
// A removal Redis refuses (a master failing over, say) is tried again
// after a pause, and at shutdown for up to Drain: an entry left in the
// outbox would be claimed after ClaimIdle and sent a second time.
func (d *Delivery) remove(sent <-chan struct{}) {
	var retry, last time.Duration // the pause before trying again what Redis refused, and the one before
	var stopBy time.Time          // once sends are over, how long removal is tried
	for {
		if retry > 0 {
			time.Sleep(retry)
		} else {
			select {
			case <-d.wake:
				t := time.NewTimer(d.opts.Linger)
				select {
				case <-t.C:
				case <-sent:
					t.Stop()
				}
			case <-sent:
			}
		}
		d.mu.Lock()
		batch := map[int][]string{}
		n := 0
		for p, ids := range d.finished {
			if len(ids) > 0 {
				batch[p] = ids
				n += len(ids)
				d.finished[p] = nil
			}
		}
		d.mu.Unlock()
		retry = 0
		if len(batch) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), d.opts.Drain)
			err := d.box.DoneMany(ctx, batch)
			cancel()
			if err != nil {
				d.log.Warn("outbox entries sent but not removed yet", "entries", n, "err", err)
				d.mu.Lock()
				for p, ids := range batch {
					d.finished[p] = append(d.finished[p], ids...)
				}
				d.mu.Unlock()
				retry = min(max(2*last, d.opts.Backoff), 2*time.Second)
			}
		}
		last = retry
		select {
		case <-sent:
			if stopBy.IsZero() {
				stopBy = time.Now().Add(d.opts.Drain)
			}
			if retry == 0 {
				return
			}
			if time.Now().After(stopBy) {
				d.log.Warn("outbox entries sent but not removed: a claim will send them again", "entries", n)
				return
			}
		default:
		}
	}
}

// partition reads and delivers one outbox stream.
func (d *Delivery) partition(ctx context.Context, part int) {
	for ctx.Err() == nil {
		msgs, err := d.box.ReadOutbox(ctx, part, d.opts.Consumer, 32, d.opts.Block)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("outbox read failed", "partition", part, "err", err)
				d.sleep(ctx, time.Second)
			}
			continue
		}
		d.deliverAll(ctx, part, msgs)
	}
}

// Consumer is this replica's name in the outbox group.
func (d *Delivery) Consumer() string { return d.opts.Consumer }

// Hand takes entries a commit claimed for this replica. It never blocks:
// when too many wait already, the entries stay pending in Redis, and the
// claim loop sends them after ClaimIdle.
func (d *Delivery) Hand(msgs []store.Message) {
	if len(msgs) == 0 {
		return
	}
	select {
	case d.handed[msgs[0].Part] <- msgs:
	default:
		d.log.Warn("outbox hand-over full: entries wait for a claim", "partition", msgs[0].Part, "entries", len(msgs))
	}
}

// local sends what commits handed over for one partition.
func (d *Delivery) local(ctx context.Context, part int) {
	for {
		select {
		case <-ctx.Done():
			return
		case msgs := <-d.handed[part]:
			d.deliverAll(ctx, part, msgs)
		}
	}
}

// claim takes over entries other consumers left behind.
func (d *Delivery) claim(ctx context.Context) {
	for d.sleep(ctx, d.opts.ClaimIdle/2) {
		for p := range d.box.Partitions() {
			msgs, err := d.box.ClaimOutbox(ctx, p, d.opts.Consumer, d.opts.ClaimIdle, 32)
			if err != nil {
				if ctx.Err() == nil {
					d.log.Warn("outbox claim failed", "partition", p, "err", err)
				}
				continue
			}
			if len(msgs) > 0 {
				d.opts.Meter.Claimed(len(msgs))
			}
			d.deliverAll(ctx, p, msgs)
		}
	}
}

// ClaimOnce claims and delivers what other consumers left behind, once,
// removing each entry as it is finished; for tests and tools. Do not call it
// while Run runs.
func (d *Delivery) ClaimOnce(ctx context.Context) error {
	for p := range d.box.Partitions() {
		msgs, err := d.box.ClaimOutbox(ctx, p, d.opts.Consumer, d.opts.ClaimIdle, 32)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if d.deliver(ctx, m) {
				if err := d.box.Done(ctx, p, m.ID); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// deliverAll sends a batch in order. Sends go on after ctx ends, for at most
// Drain, so that a shutdown does not cut a batch in half.
func (d *Delivery) deliverAll(ctx context.Context, part int, msgs []store.Message) {
	if len(msgs) == 0 {
		return
	}
	sendCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		time.AfterFunc(d.opts.Drain, cancel)
	})
	defer stop()
	for _, m := range msgs {
		if sendCtx.Err() != nil {
			return
		}
		if d.deliver(sendCtx, m) {
			d.finish(part, m.ID)
		}
	}
}

// deliver sends one entry. It reports whether the entry is finished: sent,
// or dropped for good. An unfinished entry stays pending for a later claim.
func (d *Delivery) deliver(ctx context.Context, m store.Message) bool {
	if m.Deliveries > d.opts.MaxDeliveries {
		return d.drop(ctx, m, "send.gave_up")
	}
	if m.Op != nil {
		if d.queue == nil {
			return d.drop(ctx, m, "send.no_queue")
		}
		return d.retry(ctx, m, func() error { return d.queue.Apply(ctx, m) })
	}
	sender := d.senders[bot.Channel(m.Channel)]
	if sender == nil {
		return d.drop(ctx, m, "send.no_channel")
	}
	addr, err := d.keys.Open(m.Address, m.PID)
	if err != nil {
		return d.drop(ctx, m, "send.unsealable")
	}
	reply, err := openReply(d.keys, m.PID, m.Reply)
	if err != nil {
		return d.drop(ctx, m, "send.undecodable")
	}
	out := bot.Outgoing{Channel: bot.Channel(m.Channel), Address: string(addr), PID: m.PID, Ref: m.Ref, Final: m.Final, Reply: reply}
	return d.retry(ctx, m, func() error { return sender.Send(ctx, out) })
}

// retry sends an entry with backoff. It reports whether the entry is
// finished: sent, or failed for good.
func (d *Delivery) retry(ctx context.Context, m store.Message, send func() error) bool {
	for try := range d.opts.Tries {
		start := time.Now()
		err := send()
		d.opts.Meter.Tried(m.Channel, sendOutcome(err), time.Since(start))
		if err == nil {
			return true
		}
		if errors.Is(err, bot.ErrPermanent) {
			d.log.Info("send failed for good", "pid", m.PID, "channel", m.Channel, "err", err)
			return d.drop(ctx, m, "send.permanent")
		}
		delay := d.opts.Backoff << try
		var ra *bot.RetryAfter
		if errors.As(err, &ra) {
			delay = ra.Delay
		}
		d.log.Warn("send failed, will retry", "pid", m.PID, "channel", m.Channel, "err", err, "retry_in", delay)
		if delay > d.opts.MaxWait || !d.sleep(ctx, delay) {
			return false
		}
	}
	return false
}

func (d *Delivery) drop(ctx context.Context, m store.Message, why string) bool {
	d.log.Warn("outbox entry dropped", "pid", m.PID, "channel", m.Channel, "reason", why)
	d.opts.Meter.Dropped(m.Channel, why)
	if err := d.box.Count(ctx, m.Part, why, time.Now()); err != nil {
		d.log.Warn("count failed", "err", err)
	}
	return true
}

// sealReply encodes a reply for the outbox, sealed with the person's key:
// an entry can wait there for minutes, and it holds what is said to them.
func sealReply(keys *secret.Keys, pid string, r bot.Reply) ([]byte, error) {
	b, err := r.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode reply: %w", err)
	}
	return keys.Seal(b, pid), nil
}

// openReply opens what sealReply made.
func openReply(keys *secret.Keys, pid string, sealed []byte) (bot.Reply, error) {
	var r bot.Reply
	b, err := keys.Open(sealed, pid)
	if err != nil {
		return r, err
	}
	return r, r.UnmarshalBinary(b)
}

// sendOutcome classifies the result of one try to send.
func sendOutcome(err error) string {
	switch {
	case err == nil:
		return SendSent
	case errors.Is(err, bot.ErrPermanent):
		return SendFailed
	}
	return SendRetry
}
