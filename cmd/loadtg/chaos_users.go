package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/helpline/helpline/bot/telegram/telegramtest"
)

// The chaos users play a closed loop like the load users, with exact
// accounting: every update they send gets exactly one reply from the
// helpline's flows (the engine makes at most one reply a step, and the users
// keep out of the paths that make none: a counsellor's queue, erasing,
// clearing the chat; and out of the answers to danger and self-harm, which
// a crash may send twice by design). A tap on message M is answered by an edit of M, a
// text by a new message. So a reply is the answer of the user's turn when
// it is of the kind the turn waits for; any other reply, or one that comes
// with no turn waiting, is a duplicate; a duplicate edit that puts back an
// earlier content of the message it edits is a reverted edit.

// lostAfter is how long a turn waits before its reply counts as lost.
const lostAfter = 20 * time.Second

// chaosTexts are what the chaos users type: none of them answers a
// question's choice.
var chaosTexts = []string{"hello", "what is this?", "menu", "/start"}

// event is one thing the accounting saw.
type event struct {
	at   time.Time
	kind string // "turn", "lost", "duplicate", "reverted"
	wait time.Duration
}

type chaosCall struct {
	at      time.Time
	method  string
	msg     int
	content string
	buttons []string
}

type chaosUser struct {
	chat    int64
	rnd     *rand.Rand
	calls   chan chaosCall
	content map[int][]string // what each message of the chat showed, oldest first
	lastMsg int
	buttons []string
}

// chaosCrowd is the chaos users, the fake Bot API they talk through, and
// the way their updates reach the helpline.
type chaosCrowd struct {
	fake    *telegramtest.Fake
	users   []*chaosUser
	deliver func(ctx context.Context, update []byte)
	// queued makes and queues each update under one lock, for getUpdates:
	// Telegram numbers updates in the order they are queued, and a poll
	// confirms every number below the last it got.
	queued bool
	queue  sync.Mutex

	mu     sync.Mutex
	events []event
}

func newChaosCrowd(fake *telegramtest.Fake, n int) *chaosCrowd {
	c := &chaosCrowd{fake: fake}
	for i := range n {
		c.users = append(c.users, &chaosUser{chat: int64(firstChat + i), rnd: rand.New(rand.NewPCG(uint64(i), 11)), calls: make(chan chaosCall, 64), content: map[int][]string{}})
	}
	fake.Watch(c.onCall, true)
	return c
}

func (c *chaosCrowd) onCall(call telegramtest.Call) {
	if !call.OK || (call.Method != "sendMessage" && call.Method != "editMessageText") {
		return
	}
	i := int(call.Chat() - firstChat)
	if i < 0 || i >= len(c.users) {
		return
	}
	r := telegramtest.ReplyOf(call)
	cc := chaosCall{at: call.At, method: call.Method, msg: r.MessageID, content: r.Text + "\x00" + call.Params["reply_markup"]}
	for _, b := range r.Buttons {
		cc.buttons = append(cc.buttons, b.Data)
	}
	c.users[i].calls <- cc
}

func (c *chaosCrowd) note(e event) {
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
}

// play runs every user until ctx ends, then waits for late replies for
// grace.
func (c *chaosCrowd) play(ctx context.Context, grace time.Duration) {
	var wg sync.WaitGroup
	for _, u := range c.users {
		wg.Go(func() { c.run(ctx, u, grace) })
	}
	wg.Wait()
}

func (c *chaosCrowd) run(ctx context.Context, u *chaosUser, grace time.Duration) {
	for ctx.Err() == nil {
		var tap int
		posted := time.Now()
		if c.queued {
			c.queue.Lock()
			var update []byte
			update, tap = c.next(u)
			c.deliver(ctx, update)
			c.queue.Unlock()
		} else {
			var update []byte
			update, tap = c.next(u)
			go c.deliver(ctx, update)
		}
		c.await(u, tap, posted)
	}
	// Whatever comes now answers no turn.
	t := time.NewTimer(grace)
	defer t.Stop()
	for {
		select {
		case call := <-u.calls:
			c.extra(u, call)
		case <-t.C:
			return
		}
	}
}

// next makes the user's next update: a tap on a button of the last reply,
// or a text. tap is the message tapped, 0 for a text.
func (c *chaosCrowd) next(u *chaosUser) (update []byte, tap int) {
	ok, texts := safeMoves(u.buttons, chaosTexts, true)
	if u.lastMsg != 0 && len(ok) > 0 && u.rnd.IntN(5) > 0 {
		return c.fake.Tap(u.chat, u.lastMsg, ok[u.rnd.IntN(len(ok))], "en"), u.lastMsg
	}
	text := texts[u.rnd.IntN(len(texts))]
	if u.lastMsg == 0 {
		text = "/start"
	}
	update, _ = c.fake.Message(u.chat, text, "en")
	return update, 0
}

// await waits for the answer of the user's turn, counting what else comes.
func (c *chaosCrowd) await(u *chaosUser, tap int, posted time.Time) {
	t := time.NewTimer(lostAfter)
	defer t.Stop()
	for {
		select {
		case call := <-u.calls:
			answer := (tap == 0 && call.method == "sendMessage") || (tap != 0 && call.method == "editMessageText" && call.msg == tap)
			if !answer {
				c.extra(u, call)
				continue
			}
			u.content[call.msg] = append(u.content[call.msg], call.content)
			u.lastMsg, u.buttons = call.msg, call.buttons
			c.note(event{at: call.at, kind: "turn", wait: call.at.Sub(posted)})
			if w := call.at.Sub(posted); w > 3*time.Second && os.Getenv("LOADTG_DEBUG") != "" {
				fmt.Fprintf(os.Stderr, "slow turn chat %d tap %v posted %s waited %s\n", u.chat, tap, posted.Format("15:04:05.000"), w)
			}
			return
		case <-t.C:
			c.note(event{at: time.Now(), kind: "lost", wait: lostAfter})
			if os.Getenv("LOADTG_DEBUG") != "" {
				fmt.Fprintf(os.Stderr, "lost turn chat %d tap %v posted %s\n", u.chat, tap, posted.Format("15:04:05.000"))
			}
			u.lastMsg, u.buttons = 0, nil // start again
			return
		}
	}
}

// extra counts a reply that answers no turn: a duplicate, and a reverted
// edit when it puts back what the message showed before it showed what it
// shows now.
func (c *chaosCrowd) extra(u *chaosUser, call chaosCall) {
	kind := "duplicate"
	if call.method == "editMessageText" {
		shown := u.content[call.msg]
		if len(shown) > 0 && shown[len(shown)-1] != call.content && slices.Contains(shown, call.content) {
			kind = "reverted"
		}
		u.content[call.msg] = append(shown, call.content)
	}
	c.note(event{at: call.at, kind: kind})
}

// webhookDeliverer posts updates as Telegram does: to one of the replicas'
// webhooks (behind a load balancer), again and again until one answers 200.
type webhookDeliverer struct {
	http *http.Client
	mu   sync.Mutex
	urls []string
	next int
}

func (w *webhookDeliverer) set(i int, url string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.urls) <= i {
		w.urls = append(w.urls, "")
	}
	w.urls[i] = url
}

func (w *webhookDeliverer) pick() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for range w.urls {
		w.next = (w.next + 1) % len(w.urls)
		if u := w.urls[w.next]; u != "" {
			return u
		}
	}
	return ""
}

func (w *webhookDeliverer) deliver(ctx context.Context, update []byte) {
	for try := 0; ; try++ {
		if url := w.pick(); url != "" && w.post(url, update) {
			return
		}
		if ctx.Err() != nil && try > 100 {
			return
		}
		time.Sleep(time.Duration(100+50*min(try, 8)) * time.Millisecond)
	}
}

func (w *webhookDeliverer) post(url string, update []byte) bool {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(update))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", webhookSecret)
	resp, err := w.http.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
