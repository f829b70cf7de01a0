package main

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/helpline/helpline/bot/telegram"
	"github.com/helpline/helpline/bot/telegram/telegramtest"
)

// replyWait is how long a user waits for a reply before giving up on it.
const replyWait = 5 * time.Second

// firstChat is the chat ID of the first simulated user.
const firstChat = 900_000_000

// reply is what the fake Bot API saw a bot send to a user.
type reply struct {
	at      time.Time
	msg     int
	buttons []string // callback data
}

// crowd is the simulated users and the fake's way to reach them.
type crowd struct {
	fake  *telegramtest.Fake
	users []*user
	http  *http.Client
	// polling makes the users' updates wait in the fake's queue for
	// getUpdates instead of being posted to a webhook.
	polling bool
	// queue makes and queues each update under one lock when polling:
	// Telegram numbers updates in the order they are queued, and a poll
	// confirms every number below the last it got.
	queue sync.Mutex
}

type user struct {
	chat    int64
	replies chan reply
	last    reply
	rnd     *rand.Rand
}

func newCrowd(fake *telegramtest.Fake, n int) *crowd {
	c := &crowd{fake: fake, http: &http.Client{Transport: telegram.NewHTTPClient().Transport, Timeout: 30 * time.Second}}
	for i := range maxUsers {
		c.users = append(c.users, &user{chat: int64(firstChat + i), replies: make(chan reply, 8), rnd: rand.New(rand.NewPCG(uint64(i), 7))})
	}
	fake.OnCall = c.onCall
	return c
}

// onCall hands a reply, a new message or one edited in place, to the user
// it is for.
func (c *crowd) onCall(call telegramtest.Call) {
	if call.Method != "sendMessage" && call.Method != "editMessageText" {
		return
	}
	i := int(call.Chat() - firstChat)
	if i < 0 || i >= len(c.users) {
		return
	}
	sent := telegramtest.ReplyOf(call)
	r := reply{at: call.At, msg: sent.MessageID}
	for _, b := range sent.Buttons {
		r.buttons = append(r.buttons, b.Data)
	}
	select {
	case c.users[i].replies <- r:
	default: // a user that stopped waiting
	}
}

// reset makes every user start a new conversation, with /start, and drops
// the updates a target that stopped left in the fake's queue.
func (c *crowd) reset() {
	c.fake.ClearQueue()
	for _, u := range c.users {
		u.last = reply{}
		for len(u.replies) > 0 {
			<-u.replies
		}
	}
}

// result is what one measurement saw.
type result struct {
	updates   int64
	timeouts  int64
	failures  int64
	latencies []time.Duration
	elapsed   time.Duration
}

// play runs n users against the webhook (ignored when polling) until ctx ends or the crowd sent
// max updates, and returns what they saw.
func (c *crowd) play(ctx context.Context, webhook string, n, max int) *result {
	var (
		mu    sync.Mutex
		res   = &result{}
		count atomic.Int64
		wg    sync.WaitGroup
	)
	start := time.Now()
	for _, u := range c.users[:n] {
		wg.Go(func() {
			var lat []time.Duration
			for ctx.Err() == nil && count.Add(1) <= int64(max) {
				d, err := c.step(ctx, webhook, u)
				switch {
				case err == errTimeout:
					atomic.AddInt64(&res.timeouts, 1)
				case err != nil:
					if ctx.Err() == nil {
						atomic.AddInt64(&res.failures, 1)
					}
				default:
					lat = append(lat, d)
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.updates = int64(len(res.latencies))
	return res
}

type stepError string

func (e stepError) Error() string { return string(e) }

const errTimeout = stepError("no reply")

// texts are what a user types when there is no button to tap, or for a
// change: answers, numbers, commands, a greeting.
var texts = []string{"hello", "yes", "no", "2", "Estonia", "menu", "/start", "what is this?"}

// step sends the user's next update and waits for the reply; it returns
// the time from sending to the fake receiving the reply.
func (c *crowd) step(ctx context.Context, webhook string, u *user) (time.Duration, error) {
	for len(u.replies) > 0 { // a late reply to a step given up on
		<-u.replies
	}
	next := func() []byte {
		taps, typed := safeMoves(u.last.buttons, texts, false)
		switch {
		case u.last.msg == 0:
			update, _ := c.fake.Message(u.chat, "/start", "en")
			return update
		case len(taps) > 0 && u.rnd.IntN(5) > 0:
			return c.fake.Tap(u.chat, u.last.msg, taps[u.rnd.IntN(len(taps))], "en")
		default:
			update, _ := c.fake.Message(u.chat, typed[u.rnd.IntN(len(typed))], "en")
			return update
		}
	}
	sent, err := c.deliver(ctx, webhook, next)
	if err != nil {
		return 0, err
	}
	timer := time.NewTimer(replyWait)
	defer timer.Stop()
	select {
	case r := <-u.replies:
		u.last = r
		return r.at.Sub(sent), nil
	case <-timer.C:
		// A conversation a counsellor holds answers no /start: forget
		// it, and start again.
		if _, err := c.deliver(ctx, webhook, func() []byte {
			forget, _ := c.fake.Message(u.chat, "/forget", "en")
			return forget
		}); err == nil {
			u.settle()
		}
		u.last = reply{}
		return 0, errTimeout
	case <-ctx.Done():
		// The end of a warm-up: the reply still comes, and is the one the
		// user's next update answers.
		if r, ok := u.settle(); ok {
			u.last = r
		}
		return 0, ctx.Err()
	}
}

// settle waits a while for the reply to an update whose step ended
// otherwise, so that it is not taken for the reply to the next one.
func (u *user) settle() (reply, bool) {
	select {
	case r := <-u.replies:
		return r, true
	case <-time.After(replyWait):
		return reply{}, false
	}
}

// deliver makes an update and hands it to the bot: posted to the webhook,
// or queued for getUpdates. It returns when the update was handed over,
// the time a reply is measured from.
func (c *crowd) deliver(ctx context.Context, webhook string, next func() []byte) (time.Time, error) {
	if c.polling {
		c.queue.Lock()
		defer c.queue.Unlock()
		update := next()
		at := time.Now()
		c.fake.Queue(update)
		return at, nil
	}
	update := next()
	at := time.Now()
	return at, c.post(ctx, webhook, update)
}

// post delivers an update to the webhook as Telegram does.
func (c *crowd) post(ctx context.Context, webhook string, update []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook, bytes.NewReader(update))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", webhookSecret)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return stepError("webhook status " + resp.Status)
	}
	return nil
}
