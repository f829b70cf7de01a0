package metrics

import (
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
)

// BenchmarkPerMessage is what the metrics add to one message with one
// reply: the message counted, the commit and the send observed.
func BenchmarkPerMessage(b *testing.B) {
	m := New(Options{Languages: langs})
	b.ReportAllocs()
	for b.Loop() {
		m.Received(bot.Telegram, false)
		m.Committed(300 * time.Microsecond)
		m.Tried("telegram", "sent", 2*time.Millisecond)
	}
}

// BenchmarkPerMessageParallel is the same from many goroutines at once,
// sharing the series of one channel.
func BenchmarkPerMessageParallel(b *testing.B) {
	m := New(Options{Languages: langs})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Received(bot.Telegram, false)
			m.Committed(300 * time.Microsecond)
			m.Tried("telegram", "sent", 2*time.Millisecond)
		}
	})
}
