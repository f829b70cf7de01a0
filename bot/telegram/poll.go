package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// batchTimeout bounds the handling of one getUpdates batch. A batch in hand
// is finished after shutdown begins, so its offset can be confirmed.
const batchTimeout = 30 * time.Second

// answerTimeout bounds the answer to a tap. Telegram stops the button's
// spinner by itself after about 15 seconds.
const answerTimeout = 10 * time.Second

// poll long-polls getUpdates until ctx ends. The offset moves only past
// updates that are committed: an update that failed is fetched again, and
// those after it that were committed are recognised as duplicates.
//
// The taps of a batch are answered (answerCallbackQuery) once each is
// committed, beside the next getUpdates rather than before it: the offset
// needs only the commits. poll returns once every answer is made.
func (c *Channel) poll(ctx context.Context) {
	work := newWorkers()
	defer work.stop()
	var answers sync.WaitGroup
	defer answers.Wait()
	back := backoff{}
	for ctx.Err() == nil {
		err := c.api.DeleteWebhook(ctx)
		if err == nil {
			break
		}
		c.log.Warn("telegram deleteWebhook failed", "err", err)
		sleep(ctx, back.next(err))
	}
	var offset int64
	back = backoff{}
	for ctx.Err() == nil {
		raws, err := c.api.updates(ctx, offset, c.opts.PollWait)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("telegram getUpdates failed", "err", err)
				sleep(ctx, back.next(err))
			}
			continue
		}
		next, ok := c.batch(context.WithoutCancel(ctx), raws, work, &answers)
		if next > offset {
			offset = next
		}
		if ok {
			back = backoff{}
		} else {
			sleep(ctx, back.next(nil))
		}
	}
}

// batch handles one batch of updates: each chat's in order, the chats at
// once. It returns the offset to confirm, and whether every update was
// committed. The answers to the taps committed go on in answers.
func (c *Channel) batch(ctx context.Context, raws []json.RawMessage, work *workers, answers *sync.WaitGroup) (int64, bool) {
	ctx, cancel := context.WithTimeout(ctx, batchTimeout)
	defer cancel()
	chats := map[int64][]event{}
	var order []int64
	var last int64
	for _, raw := range raws {
		ev, err := decode(raw)
		if err != nil {
			ev = event{update: updateID(raw), reason: "undecodable"}
		}
		last = max(last, ev.update)
		if _, seen := chats[ev.chat]; !seen {
			order = append(order, ev.chat)
		}
		chats[ev.chat] = append(chats[ev.chat], ev)
	}
	var mu sync.Mutex
	failed := int64(-1)
	var wg sync.WaitGroup
	for _, chat := range order {
		wg.Add(1)
		work.Go(func() {
			defer wg.Done()
			if id, ok := c.chatUpdates(ctx, chats[chat], work, answers); !ok {
				mu.Lock()
				if failed < 0 || id < failed {
					failed = id
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failed >= 0 {
		return failed, false
	}
	if len(raws) == 0 {
		return 0, true
	}
	return last + 1, true
}

// chatUpdates handles one chat's updates in order, stopping at the first
// that fails; it returns that update's ID. A tap is answered once it is
// committed, in answers, so that neither the chat's next update nor the
// batch waits for the answer.
func (c *Channel) chatUpdates(ctx context.Context, evs []event, work *workers, answers *sync.WaitGroup) (int64, bool) {
	for _, ev := range evs {
		if err := c.handle(ctx, ev); err != nil {
			return ev.update, false
		}
		if ev.callback != "" {
			answers.Add(1)
			work.Go(func() {
				defer answers.Done()
				c.answerTap(ev.callback)
			})
		}
	}
	return 0, true
}

// answerTap stops the spinner of a tapped button. It is made even while the
// channel shuts down: the tap is committed, and its person waits.
func (c *Channel) answerTap(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
	defer cancel()
	if err := c.api.AnswerCallback(ctx, id); err != nil {
		c.log.Warn("telegram tap not answered", "err", err)
	}
}

// updateID reads the ID of an update that cannot be decoded otherwise, so
// that the offset can move past it; 0 if even that fails.
func updateID(raw json.RawMessage) int64 {
	var u struct {
		ID int64 `json:"update_id"`
	}
	json.Unmarshal(raw, &u)
	return u.ID
}

// backoff doubles a delay from half a second to half a minute, or takes the
// delay Telegram asked for.
type backoff struct{ d time.Duration }

func (b *backoff) next(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter
	}
	b.d = min(max(2*b.d, 500*time.Millisecond), 30*time.Second)
	return b.d
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
