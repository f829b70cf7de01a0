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

// Outbox is what delivery needs of the store: the outbox streams, and the
// heartbeats and holders by which a live replica takes over what a dead one
// was handed (store/claim.go).
type Outbox interface {
	Partitions() int
	EnsureGroups(ctx context.Context) error
	ReadOutbox(ctx context.Context, part int, consumer string, count int64, block time.Duration) ([]store.Message, error)
	ClaimOutbox(ctx context.Context, part int, consumer string, minIdle time.Duration, count int64) ([]store.Message, error)
	ClaimFrom(ctx context.Context, part int, from, to string, minIdle time.Duration, count int64, skip func(id string) bool) ([]store.Message, error)
	Stale(ctx context.Context, msgs []store.Message) ([]bool, error)
	DoneMany(ctx context.Context, sent map[int][]store.Sent) error
	Count(ctx context.Context, part int, name string, now time.Time) error

	Beat(ctx context.Context, consumer string, ttl time.Duration) error
	Quit(ctx context.Context, consumer string) error
	Alive(ctx context.Context, consumers []string) (map[string]bool, error)
	Holders(ctx context.Context) (map[int]map[string]int64, error)
	Consumers(ctx context.Context) ([]string, error)
	Retire(ctx context.Context, consumer string) (bool, error)
}

// DeliveryOptions tune delivery. Zero values take the defaults.
type DeliveryOptions struct {
	// Consumer names this replica in the outbox consumer group; it must
	// differ between replicas. A name that stays the same across restarts
	// (a pod's name) lets a restarted process take back at once what its
	// former self held; a new name is taken over by peers once the old
	// name's heartbeat is gone.
	Consumer string
	// Tries is how often one hand-over retries a send before leaving the
	// entry for a later claim. Default 4.
	Tries int
	// Backoff is the first retry delay; it doubles per try. Default 200ms.
	Backoff time.Duration
	// MaxWait is the longest delay waited in place; a longer retry-after
	// leaves the entry to be claimed later. Default 5s.
	MaxWait time.Duration
	// ClaimIdle is how long an entry may sit with a live consumer before
	// another takes it over. It must be longer than one hand-over can take
	// (Tries sends and their waits), or two consumers send the same entry.
	// Default 60s.
	ClaimIdle time.Duration
	// Heartbeat is how long this replica's heartbeat lives; it is renewed
	// three times within it. Entries of a consumer whose heartbeat is gone
	// on two claim rounds in a row are taken over at once. Default 2s.
	Heartbeat time.Duration
	// ClaimEvery is how often the claim loop looks for entries of dead
	// consumers. Default 1s.
	ClaimEvery time.Duration
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
	// Urgent reports the replies that must reach the person even late:
	// the answer to danger or self-harm, with its numbers. A stale entry
	// whose reply it reports is sent, not dropped, as a new message (no
	// Ref), never in place of the one the person tapped. Nil keeps none.
	Urgent func(bot.Reply) bool
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
	if o.Heartbeat <= 0 {
		o.Heartbeat = 2 * time.Second
	}
	if o.ClaimEvery <= 0 {
		o.ClaimEvery = time.Second
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
// failed for good. Entries come three ways: a commit on this replica claims
// its own entries and hands them over (Dispatcher.SendVia), a reader per
// partition takes what other replicas' commits left, and a claim loop takes
// over entries of replicas that died (recover.go).
//
// What a crash costs, and why:
//   - Silence: a replica that dies leaves what it was handed pending. Its
//     heartbeat lapses within Heartbeat, and a live replica takes its
//     entries over within two claim rounds after that: about 4s with the
//     defaults. A restarted replica with the same name takes back what it
//     held at once.
//   - Duplicates: a live replica never sends an entry twice. It remembers
//     every entry it holds or finished until the entry's removal succeeds
//     (removal is retried across a Redis outage), and those removed while
//     a claim was in flight until no claim is, and skips any entry it
//     remembers when a read or a claim hands it over again.
//   - Stale replies: an entry taken over from elsewhere (claimed or read,
//     never one a commit just handed over) is dropped, not sent, when its
//     person was sent a later reply since (store.Stale), or when a later
//     reply of the person that goes in the same place (Ref) is taken over
//     with it: the person has moved on, and an old edit would put an
//     earlier question and its buttons back in place of the current one. This drops a reply that
//     was never sent too, if a later one was; the later reply was made from
//     the session that includes it. Queue operations are never stale.
//   - The one window left is a send the provider accepted just before the
//     replica died, before the entry was removed, when the person has not
//     been sent anything later by the time it is taken over. The next
//     commit in the entry's partition removes it in its own round trip
//     (Dispatcher.Handle takes Finished); what no commit took within Linger
//     is removed in one batch.
type Delivery struct {
	box     Outbox
	keys    *secret.Keys
	senders map[bot.Channel]bot.Sender
	queue   Applier
	log     *slog.Logger
	opts    DeliveryOptions
	sleep   func(ctx context.Context, d time.Duration) bool
	started time.Time
	// handed holds, per partition, entries a commit claimed for this
	// replica, for a worker that sends them in order.
	handed []chan []store.Message

	// finished holds, per partition, the entries sent or dropped and not
	// yet taken for removal; wake tells the remover that there are some.
	// mine holds the IDs of every entry this replica has in hand, or
	// finished and not yet known removed: a read or claim that hands one
	// over again does not send it again.
	mu       sync.Mutex
	finished [][]store.Sent
	mine     map[entry]bool
	wake     chan struct{}
	// reads counts the claims of entries in flight, and removed holds the
	// entries removed while one was: a claim that read an entry
	// just before its removal hands it over just after, when it is no
	// longer in mine, and it was sent already. It is emptied whenever no
	// claim is in flight, since a claim that begins later cannot see them.
	reads   int
	removed map[entry]bool
}

// entry names an outbox entry: two partitions' streams may give the same ID.
type entry struct {
	part int
	id   string
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
	d := &Delivery{box: box, keys: keys, senders: senders, queue: queue, log: log, opts: opts, sleep: sleep, started: time.Now()}
	d.handed = make([]chan []store.Message, box.Partitions())
	d.finished = make([][]store.Sent, box.Partitions())
	d.mine = map[entry]bool{}
	d.removed = map[entry]bool{}
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
// Drain), removes what was sent, and returns.
func (d *Delivery) Run(ctx context.Context) {
	beat := d.heartbeat(ctx)
	// The groups let a commit hand its entries over at once. A Redis that
	// does not answer yet must not stop delivery: each partition's reader
	// makes its group when it finds none (store.ReadOutbox).
	if err := d.box.EnsureGroups(ctx); err != nil && ctx.Err() == nil {
		d.log.Warn("outbox groups not made yet: the readers make them once Redis answers", "err", err)
	}
	// The remover outlives the senders, so that every entry sent, even in
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
	beat()
}

// take keeps, of msgs, the entries this replica does not hold already, and
// holds them from now on.
func (d *Delivery) take(msgs []store.Message) []store.Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.takeLocked(msgs)
}

func (d *Delivery) takeLocked(msgs []store.Message) []store.Message {
	out := msgs[:0:0]
	for _, m := range msgs {
		if e := (entry{m.Part, m.ID}); !d.mine[e] && !d.removed[e] {
			d.mine[e] = true
			out = append(out, m)
		}
	}
	return out
}

// beginRead marks a claim of entries in flight. The function it returns
// must be called once with what the claim handed over (nil when it
// failed): it takes them as take does, leaving out too the entries removed
// while the claim was in flight, and ends it.
func (d *Delivery) beginRead() func([]store.Message) []store.Message {
	d.mu.Lock()
	d.reads++
	d.mu.Unlock()
	return func(msgs []store.Message) []store.Message {
		d.mu.Lock()
		defer d.mu.Unlock()
		out := d.takeLocked(msgs)
		if d.reads--; d.reads == 0 {
			clear(d.removed)
		}
		return out
	}
}

// holds reports whether this replica holds entry id of partition part, or
// removed it while a claim was in flight.
func (d *Delivery) holds(part int, id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := entry{part, id}
	return d.mine[e] || d.removed[e]
}

// release lets go of an entry left pending for a later claim.
func (d *Delivery) release(m store.Message) {
	d.mu.Lock()
	delete(d.mine, entry{m.Part, m.ID})
	d.mu.Unlock()
}

// finish records an entry as sent or dropped, for removal.
func (d *Delivery) finish(m store.Message, sent bool) {
	e := store.Sent{ID: m.ID}
	if sent && m.Op == nil {
		e.PID, e.Seq = m.PID, m.Seq
	}
	d.mu.Lock()
	d.mine[entry{m.Part, m.ID}] = true
	d.finished[m.Part] = append(d.finished[m.Part], e)
	d.mu.Unlock()
	d.poke()
}

func (d *Delivery) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Finished takes the entries of partition part that were sent or dropped,
// at most store.MaxDone, for a commit in that partition to remove. A commit
// that succeeds reports them with Removed, one that fails gives them back
// with Unfinished.
func (d *Delivery) Finished(part int) []store.Sent {
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

// Unfinished gives back entries that Finished returned and no commit
// removed.
func (d *Delivery) Unfinished(part int, sent []store.Sent) {
	d.mu.Lock()
	d.finished[part] = append(d.finished[part], sent...)
	d.mu.Unlock()
	d.poke()
}

// Removed forgets entries of partition part that are out of the outbox.
func (d *Delivery) Removed(part int, sent []store.Sent) {
	d.mu.Lock()
	for _, e := range sent {
		delete(d.mine, entry{part, e.ID})
		if d.reads > 0 {
			d.removed[entry{part, e.ID}] = true
		}
	}
	d.mu.Unlock()
}

// remove takes out of the outbox the finished entries that no commit took
// within Linger, all partitions in one round trip. A removal that fails is
// tried again, with backoff, until it succeeds: until then the entries stay
// in mine, so no claim sends them again. Once sent is closed (no send is
// left) it removes the rest, trying for at most Drain, and returns.
func (d *Delivery) remove(sent <-chan struct{}) {
	backoff := d.opts.Linger
	var deadline time.Time
	for {
		select {
		case <-d.wake:
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-sent:
				t.Stop()
			}
		case <-sent:
		}
		closing := false
		select {
		case <-sent:
			closing = true
			if deadline.IsZero() {
				deadline = time.Now().Add(d.opts.Drain)
			}
		default:
		}
		batch := d.takeFinished()
		if len(batch) == 0 {
			if closing {
				return
			}
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), d.opts.Drain)
		err := d.box.DoneMany(ctx, batch)
		cancel()
		if err == nil {
			for p, list := range batch {
				d.Removed(p, list)
			}
			backoff = d.opts.Linger
			continue
		}
		for p, list := range batch {
			d.Unfinished(p, list)
		}
		if closing && time.Now().After(deadline) {
			d.log.Warn("outbox entries sent but not removed at shutdown", "partitions", len(batch), "err", err)
			return
		}
		if backoff == d.opts.Linger {
			d.log.Warn("outbox entries sent but not removed yet; trying again", "partitions", len(batch), "err", err)
		}
		backoff = min(max(2*backoff, 50*time.Millisecond), time.Second)
		if closing {
			time.Sleep(backoff)
		}
	}
}

// takeFinished takes every partition's finished entries.
func (d *Delivery) takeFinished() map[int][]store.Sent {
	d.mu.Lock()
	defer d.mu.Unlock()
	batch := map[int][]store.Sent{}
	for p, list := range d.finished {
		if len(list) > 0 {
			batch[p] = list
			d.finished[p] = nil
		}
	}
	return batch
}

// partition reads and delivers one outbox stream.
func (d *Delivery) partition(ctx context.Context, part int) {
	for ctx.Err() == nil {
		// A read gives only entries never handed to anyone, so none that
		// this replica removed: it need not count among the reads in
		// flight (beginRead), and blocking as it does, it would keep them
		// remembered for good.
		msgs, err := d.box.ReadOutbox(ctx, part, d.opts.Consumer, 32, d.opts.Block)
		msgs = d.take(msgs)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("outbox read failed", "partition", part, "err", err)
				d.sleep(ctx, time.Second)
			}
			continue
		}
		d.deliverLate(ctx, part, msgs)
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
	msgs = d.take(msgs)
	if len(msgs) == 0 {
		return
	}
	select {
	case d.handed[msgs[0].Part] <- msgs:
	default:
		for _, m := range msgs {
			d.release(m)
		}
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
			d.deliverAll(ctx, msgs)
		}
	}
}

// ClaimOnce claims and delivers what other consumers left behind, once,
// and removes what it finished; for tests and tools. Do not call it while
// Run runs.
func (d *Delivery) ClaimOnce(ctx context.Context) error {
	for p := range d.box.Partitions() {
		took := d.beginRead()
		msgs, err := d.box.ClaimOutbox(ctx, p, d.opts.Consumer, d.opts.ClaimIdle, 32)
		msgs = took(msgs)
		if err != nil {
			return err
		}
		d.deliverLate(ctx, p, msgs)
	}
	batch := d.takeFinished()
	if err := d.box.DoneMany(ctx, batch); err != nil {
		return err
	}
	for p, list := range batch {
		d.Removed(p, list)
	}
	return nil
}

// deliverLate delivers entries a read or a claim handed over, once taken
// (take, beginRead): stale replies are dropped.
func (d *Delivery) deliverLate(ctx context.Context, part int, msgs []store.Message) {
	if len(msgs) == 0 {
		return
	}
	stale, err := d.stale(ctx, msgs)
	if err != nil {
		// Sending unchecked risks an old question put back; waiting longer
		// would leave the person in silence.
		d.log.Warn("outbox entries taken over and sent unchecked", "partition", part, "entries", len(msgs), "err", err)
		stale = make([]bool, len(msgs))
	}
	// Of a person's replies taken over together that go in the same place
	// (the same Ref: an answer to a tap replaces the message tapped), the
	// latest covers the others, as a later reply sent would: a replica that
	// died may have sent several before it could remove any, and sending
	// them again in order would put an old question back for a moment.
	type place struct{ pid, ref string }
	latest := map[place]int64{}
	for _, m := range msgs {
		if k := (place{m.PID, m.Ref}); m.Op == nil && m.Ref != "" && m.Seq > latest[k] {
			latest[k] = m.Seq
		}
	}
	for i, m := range msgs {
		if m.Op == nil && m.Ref != "" && m.Seq < latest[place{m.PID, m.Ref}] {
			stale[i] = true
		}
	}
	fresh := msgs[:0:0]
	for i, m := range msgs {
		if stale[i] {
			if !d.urgent(m) {
				d.drop(ctx, m, "send.stale")
				d.finish(m, false)
				continue
			}
			// Late guidance goes as a message of its own: in place of the
			// message the person tapped, it would put an old question back
			// over the later answer there.
			m.Ref = ""
		}
		fresh = append(fresh, m)
	}
	d.deliverAll(ctx, fresh)
}

// urgent reports whether m holds a reply that must reach the person even
// though a later one already did: late guidance after danger words is
// better than none.
func (d *Delivery) urgent(m store.Message) bool {
	if d.opts.Urgent == nil || m.Op != nil {
		return false
	}
	r, err := openReply(d.keys, m.PID, m.Reply)
	return err == nil && d.opts.Urgent(r)
}

// stale checks msgs with the store, trying again for up to MaxWait.
func (d *Delivery) stale(ctx context.Context, msgs []store.Message) ([]bool, error) {
	deadline := time.Now().Add(d.opts.MaxWait)
	for {
		stale, err := d.box.Stale(ctx, msgs)
		if err == nil || time.Now().After(deadline) || !d.sleep(ctx, 250*time.Millisecond) {
			return stale, err
		}
	}
}

// deliverAll sends a batch in order. Sends go on after ctx ends, for at most
// Drain, so that a shutdown does not cut a batch in half. Every entry of
// msgs must be held (take).
func (d *Delivery) deliverAll(ctx context.Context, msgs []store.Message) {
	if len(msgs) == 0 {
		return
	}
	sendCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		time.AfterFunc(d.opts.Drain, cancel)
	})
	defer stop()
	for i, m := range msgs {
		if sendCtx.Err() != nil {
			for _, m := range msgs[i:] {
				d.release(m)
			}
			return
		}
		finished, sent := d.deliver(sendCtx, m)
		if finished {
			d.finish(m, sent)
		} else {
			d.release(m)
		}
	}
}

// deliver sends one entry. It reports whether the entry is finished (sent,
// or dropped for good) and whether it was sent. An unfinished entry stays
// pending for a later claim.
func (d *Delivery) deliver(ctx context.Context, m store.Message) (finished, sent bool) {
	if m.Deliveries > d.opts.MaxDeliveries {
		return d.drop(ctx, m, "send.gave_up"), false
	}
	if m.Op != nil {
		if d.queue == nil {
			return d.drop(ctx, m, "send.no_queue"), false
		}
		return d.retry(ctx, m, func() error { return d.queue.Apply(ctx, m) })
	}
	sender := d.senders[bot.Channel(m.Channel)]
	if sender == nil {
		return d.drop(ctx, m, "send.no_channel"), false
	}
	addr, err := d.keys.Open(m.Address, m.PID)
	if err != nil {
		return d.drop(ctx, m, "send.unsealable"), false
	}
	reply, err := openReply(d.keys, m.PID, m.Reply)
	if err != nil {
		return d.drop(ctx, m, "send.undecodable"), false
	}
	out := bot.Outgoing{Channel: bot.Channel(m.Channel), Address: string(addr), PID: m.PID, Ref: m.Ref, Final: m.Final, Reply: reply}
	return d.retry(ctx, m, func() error { return sender.Send(ctx, out) })
}

// retry sends an entry with backoff. It reports whether the entry is
// finished (sent, or failed for good) and whether it was sent.
func (d *Delivery) retry(ctx context.Context, m store.Message, send func() error) (finished, sent bool) {
	for try := range d.opts.Tries {
		start := time.Now()
		err := send()
		d.opts.Meter.Tried(m.Channel, sendOutcome(err), time.Since(start))
		if err == nil {
			return true, true
		}
		if errors.Is(err, bot.ErrPermanent) {
			d.log.Info("send failed for good", "pid", m.PID, "channel", m.Channel, "err", err)
			return d.drop(ctx, m, "send.permanent"), false
		}
		delay := d.opts.Backoff << try
		var ra *bot.RetryAfter
		if errors.As(err, &ra) {
			delay = ra.Delay
		}
		d.log.Warn("send failed, will retry", "pid", m.PID, "channel", m.Channel, "err", err, "retry_in", delay)
		if delay > d.opts.MaxWait || !d.sleep(ctx, delay) {
			return false, false
		}
	}
	return false, false
}

func (d *Delivery) drop(ctx context.Context, m store.Message, why string) bool {
	d.log.Warn("outbox entry dropped", "pid", m.PID, "channel", m.Channel, "reason", why)
	d.opts.Meter.Dropped(m.Channel, why)
	if err := d.box.Count(ctx, m.Part, why, time.Now()); err != nil {
		d.log.Warn("count failed", "err", err)
	}
	return true
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
