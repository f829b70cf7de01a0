package runner

import (
	"context"
	"time"
)

// heartbeat keeps this replica's heartbeat alive until ctx ends. The
// returned function, called once everything sent is removed, takes the
// heartbeat away, so that peers take over at once whatever is still held.
func (d *Delivery) heartbeat(ctx context.Context) func() {
	every := d.opts.Heartbeat / 3
	beat := func() {
		bctx, cancel := context.WithTimeout(ctx, every)
		defer cancel()
		if err := d.box.Beat(bctx, d.opts.Consumer, d.opts.Heartbeat); err != nil && ctx.Err() == nil {
			d.log.Debug("heartbeat failed", "err", err)
		}
	}
	beat()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				beat()
			}
		}
	}()
	return func() {
		<-done
		qctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		d.box.Quit(qctx, d.opts.Consumer)
	}
}

// claim takes over entries other consumers left behind. Every ClaimEvery it
// takes what dead consumers hold (takeOver); every ClaimIdle/2 what any
// consumer, live or not, has held longer than ClaimIdle (a send that gave
// up for now, a hand-over that was full); now and then it removes dead
// consumers that hold nothing from the groups.
func (d *Delivery) claim(ctx context.Context) {
	var (
		dead    = map[string]int{} // consumers seen without a heartbeat, and how often in a row
		idle    = time.Now()
		retired = time.Now()
	)
	for d.sleep(ctx, d.opts.ClaimEvery) {
		d.takeOver(ctx, dead)
		if time.Since(idle) >= d.opts.ClaimIdle/2 {
			idle = time.Now()
			for p := range d.box.Partitions() {
				took := d.beginRead()
				msgs, err := d.box.ClaimOutbox(ctx, p, d.opts.Consumer, d.opts.ClaimIdle, 32)
				msgs = took(msgs)
				if err != nil {
					if ctx.Err() == nil {
						d.log.Warn("outbox claim failed", "partition", p, "err", err)
					}
					continue
				}
				if len(msgs) > 0 {
					d.opts.Meter.Claimed(len(msgs))
				}
				d.deliverLate(ctx, p, msgs)
			}
		}
		if time.Since(retired) >= retireEvery {
			retired = time.Now()
			d.retire(ctx)
		}
	}
}

// retireEvery is how often dead consumers that hold nothing are removed
// from the outbox groups.
const retireEvery = 30 * time.Second

// deadIdle is how long an entry of a dead consumer must have been idle to
// be claimed: of two replicas claiming it at once, one gets it.
const deadIdle = time.Second

// orphanIdle is how long an entry held under this replica's name, but not in
// its hands, waits before the replica takes it back: far longer than a
// commit's answer takes to come back with it.
const orphanIdle = 2 * time.Second

// takeOver claims and delivers what dead consumers hold. A consumer is dead
// when its heartbeat is missing on two rounds in a row, ClaimEvery apart:
// a Redis that paused longer than the heartbeat lets every heartbeat lapse
// at once, and the live replicas renew theirs within a round. Entries held
// under this replica's own name since before it started belong to a former
// process of the same name, and are taken back at once.
func (d *Delivery) takeOver(ctx context.Context, dead map[string]int) {
	holders, err := d.box.Holders(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("outbox holders not read", "err", err)
		}
		return
	}
	var names []string
	seen := map[string]bool{}
	for _, cs := range holders {
		for name := range cs {
			if name != d.opts.Consumer && !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
	}
	alive, err := d.box.Alive(ctx, names)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("heartbeats not read", "err", err)
		}
		return
	}
	for name := range dead {
		if !seen[name] {
			delete(dead, name)
		}
	}
	for _, name := range names {
		if alive[name] {
			delete(dead, name)
		} else {
			dead[name]++
		}
	}
	for part, cs := range holders {
		for name := range cs {
			switch {
			case name == d.opts.Consumer:
				// Held under this name but not in hand: a former self's
				// (idle since before this process started), or handed
				// over by a commit whose answer never came back (a Redis
				// that stalled, a connection cut), or left by a full
				// hand-over.
				d.claimFrom(ctx, part, name, min(time.Since(d.started), orphanIdle))
			case name != d.opts.Consumer && dead[name] >= 2:
				d.claimFrom(ctx, part, name, deadIdle)
			}
		}
	}
}

// claimFrom claims and delivers, in batches, what consumer from holds in
// partition part, idle for at least minIdle.
func (d *Delivery) claimFrom(ctx context.Context, part int, from string, minIdle time.Duration) {
	for ctx.Err() == nil {
		took := d.beginRead()
		msgs, err := d.box.ClaimFrom(ctx, part, from, d.opts.Consumer, minIdle, 256, func(id string) bool { return d.holds(part, id) })
		msgs = took(msgs)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("outbox claim failed", "partition", part, "err", err)
			}
			return
		}
		if len(msgs) == 0 {
			return
		}
		d.log.Info("taking over outbox entries", "partition", part, "entries", len(msgs), "own", from == d.opts.Consumer)
		d.opts.Meter.Claimed(len(msgs))
		d.deliverLate(ctx, part, msgs)
		if from == d.opts.Consumer {
			return // what it claimed is its own now: the next round looks again
		}
	}
}

// retire removes from the outbox groups the consumers without a heartbeat
// that hold nothing: every restart with a new name leaves one.
func (d *Delivery) retire(ctx context.Context) {
	names, err := d.box.Consumers(ctx)
	if err != nil {
		return
	}
	var others []string
	for _, n := range names {
		if n != d.opts.Consumer {
			others = append(others, n)
		}
	}
	alive, err := d.box.Alive(ctx, others)
	if err != nil {
		return
	}
	for _, n := range others {
		if alive[n] {
			continue
		}
		// Retire checks and removes at once: a consumer that holds an
		// entry stays, whatever its heartbeat says.
		if _, err := d.box.Retire(ctx, n); err != nil {
			d.log.Debug("consumer not retired", "err", err)
		}
	}
}
