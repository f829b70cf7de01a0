package telegram_test

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"

	"github.com/helpline/helpline/bot/telegram/telegramtest"
)

// BenchmarkConversation measures one update's way through the channel, in
// process: the webhook, the dispatcher's commit in Redis, delivery, and the
// send to the fake Bot API, with people who tap buttons and type. The load
// driver (cmd/loadtg) measures the binary against the ceiling.
func BenchmarkConversation(b *testing.B) {
	h := newHarness(b, setup{})
	var mu sync.Mutex
	next := int64(0)
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		next++
		p := &telegramtest.Person{T: b, Fake: h.fake, Chat: 880000 + next, Lang: "en"}
		mu.Unlock()
		p.Deliver = func(u []byte) {
			if code := h.post(u); code != http.StatusOK {
				b.Fatalf("webhook answered %d", code)
			}
		}
		rnd := rand.New(rand.NewPCG(uint64(p.Chat), 1))
		p.Say("/start")
		for pb.Next() {
			if len(p.Last.Buttons) > 0 && rnd.IntN(5) > 0 {
				p.Tap(p.Last.Buttons[rnd.IntN(len(p.Last.Buttons))].Text)
			} else {
				p.Say("hello")
			}
		}
	})
}
