// Package telegram is the Telegram channel: updates come in through a
// webhook or a long-polling loop of its own, and are answered 200 (or
// confirmed to getUpdates) only once the dispatcher committed them; replies
// go out through go-telegram/bot, within Telegram's rate limits.
//
// Only private chats are answered. Nothing the person sends besides text is
// read or kept, and no log line or error holds a chat ID or a message.
package telegram

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/helpline/helpline/bot"
)

// Dispatcher is what the channel needs of the dispatcher.
type Dispatcher interface {
	Handle(ctx context.Context, in bot.Inbound) error
	PersonID(in bot.Inbound) string
}

// Marks keep the stop mark of a person who blocked the bot.
type Marks interface {
	SetStopped(ctx context.Context, pid string, stopped bool) error
	Stopped(ctx context.Context, pid string) (bool, error)
}

// Counter adds to the aggregate counters.
type Counter interface {
	Count(ctx context.Context, part int, name string, now time.Time) error
}

// Sealer seals message IDs for the person they belong to.
type Sealer interface {
	Seal(b []byte, ad string) []byte
	Open(sealed []byte, ad string) ([]byte, error)
}

// Deps are the parts of the helpline the channel works with.
type Deps struct {
	Dispatcher Dispatcher
	Marks      Marks
	Trail      TrailStore
	Counter    Counter
	Keys       Sealer
	Texts      Texts
	Log        *slog.Logger
}

// Options tune the channel. Zero values take the defaults.
type Options struct {
	// Secret is the webhook's secret token. Without it the webhook is not
	// served: the channel polls.
	Secret string
	// Polling makes the channel long-poll getUpdates instead of serving
	// the webhook.
	Polling bool
	// PollWait is how long one getUpdates call waits for updates. Default
	// 25s.
	PollWait time.Duration
	// ChatRate is the messages per second sent to one chat, with short
	// bursts of ChatBurst; Rate the messages per second in all. Zero means
	// the defaults (1 and 30); a negative value means no limit.
	ChatRate, Rate float64
	// ChatBurst is how many messages one chat may get at once. Default 3.
	ChatBurst int
	// Menu lists the command menu's entries, set per language with
	// setMyCommands when the channel starts.
	Menu []MenuItem
	// IsClear reports whether a message asks to clear the chat.
	IsClear func(text string) bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.PollWait <= 0 {
		o.PollWait = 25 * time.Second
	}
	if o.ChatRate == 0 {
		o.ChatRate = 1
	}
	if o.Rate == 0 {
		o.Rate = 30
	}
	if o.ChatBurst <= 0 {
		o.ChatBurst = 3
	}
	if o.IsClear == nil {
		o.IsClear = func(string) bool { return false }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Channel is the Telegram channel: its webhook, its polling loop and its
// sender.
type Channel struct {
	api    *API
	deps   Deps
	opts   Options
	log    *slog.Logger
	limits *limits
	trail  *trail
	edits  *edits

	readyMu sync.Mutex
	readyAt time.Time
}

// New makes the channel. It does no I/O.
func New(api *API, deps Deps, opts Options) *Channel {
	opts.defaults()
	return &Channel{
		api: api, deps: deps, opts: opts, log: deps.Log,
		limits: newLimits(opts.ChatRate, opts.ChatBurst, opts.Rate),
		trail:  newTrail(deps.Trail, deps.Keys, deps.Log, opts.Now),
		edits:  newEdits(),
	}
}

// Run does the channel's background work until ctx ends: it records message
// IDs for clear chat, sets the command menu, and polls when polling.
func (c *Channel) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { c.trail.run(ctx) })
	wg.Go(func() { c.setMenu(ctx) })
	if c.opts.Polling {
		wg.Go(func() { c.poll(ctx) })
	}
	wg.Wait()
}

// Ready reports whether the Bot API answers for this bot. A success is
// trusted for a minute, so a readiness probe does not call Telegram each
// time.
func (c *Channel) Ready(ctx context.Context) error {
	c.readyMu.Lock()
	fresh := time.Since(c.readyAt) < time.Minute
	c.readyMu.Unlock()
	if fresh {
		return nil
	}
	if _, err := c.api.Me(ctx); err != nil {
		return err
	}
	c.readyMu.Lock()
	c.readyAt = time.Now()
	c.readyMu.Unlock()
	return nil
}

// handle carries out one update. It returns nil once the update's effect is
// committed, or when there is nothing to commit.
func (c *Channel) handle(ctx context.Context, ev event) error {
	switch ev.action {
	case ignore:
		c.count(ctx, "telegram.ignored."+ev.reason)
		return nil
	case blocked, unblocked:
		return c.mark(ctx, ev)
	}
	in := ev.in
	if in.Text != "" && c.opts.IsClear(in.Text) {
		in.Ref = ref(refClear, ev.msg)
	}
	pid := c.deps.Dispatcher.PersonID(in)
	if err := c.deps.Dispatcher.Handle(ctx, in); err != nil {
		c.log.Error("telegram update not handled", "pid", pid, "err", err)
		return err
	}
	if ev.msg != 0 {
		c.trail.record(pid, ev.msg)
	}
	return nil
}

// mark sets or lifts the stop mark of a person who blocked the bot or came
// back.
func (c *Channel) mark(ctx context.Context, ev event) error {
	pid := c.deps.Dispatcher.PersonID(ev.in)
	stop := ev.action == blocked
	if err := c.deps.Marks.SetStopped(ctx, pid, stop); err != nil {
		c.log.Error("telegram stop mark not set", "pid", pid, "err", err)
		return err
	}
	c.log.Info("telegram stop mark", "pid", pid, "stopped", stop)
	if stop {
		c.count(ctx, "telegram.blocked")
	} else {
		c.count(ctx, "telegram.unblocked")
	}
	return nil
}

// count adds to an aggregate counter; a failure only costs the count.
func (c *Channel) count(ctx context.Context, name string) {
	if err := c.deps.Counter.Count(ctx, 0, name, c.opts.Now()); err != nil {
		c.log.Warn("count failed", "counter", name, "err", err)
	}
}
