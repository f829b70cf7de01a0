package telegram

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limits keeps the sender within Telegram's limits: about one message a
// second to one chat (short bursts are allowed) and about thirty a second
// in all. They hold per replica.
type limits struct {
	global *rate.Limiter // nil: no limit

	perChat rate.Limit // 0: no limit
	burst   int

	mu    sync.Mutex
	chats map[int64]*rate.Limiter
	swept time.Time
}

func newLimits(chatRate float64, burst int, globalRate float64) *limits {
	l := &limits{burst: burst, chats: map[int64]*rate.Limiter{}, swept: time.Now()}
	if chatRate > 0 {
		l.perChat = rate.Limit(chatRate)
	}
	if globalRate > 0 {
		l.global = rate.NewLimiter(rate.Limit(globalRate), max(1, int(globalRate)))
	}
	return l
}

// wait blocks until a message may go to chat, or ctx ends.
func (l *limits) wait(ctx context.Context, chat int64) error {
	if c := l.chat(chat); c != nil {
		if err := c.Wait(ctx); err != nil {
			return err
		}
	}
	if l.global != nil {
		return l.global.Wait(ctx)
	}
	return nil
}

func (l *limits) chat(chat int64) *rate.Limiter {
	if l.perChat == 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.swept) > time.Minute {
		l.sweep(now)
	}
	c := l.chats[chat]
	if c == nil {
		c = rate.NewLimiter(l.perChat, l.burst)
		l.chats[chat] = c
	}
	return c
}

// sweep forgets the chats whose limiter is full again: they were quiet long
// enough that a new limiter is the same.
func (l *limits) sweep(now time.Time) {
	for chat, c := range l.chats {
		if c.TokensAt(now) >= float64(l.burst) {
			delete(l.chats, chat)
		}
	}
	l.swept = now
}
