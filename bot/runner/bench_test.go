package runner_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/metrics"
	"github.com/helpline/helpline/bot/runner"
)

// BenchmarkHandle measures the hot path of one inbound message against a
// real Redis: read the session, step, commit with one script. People
// rotate over a thousand addresses, each walking from the welcome into the
// menu and its flows.
func BenchmarkHandle(b *testing.B) { benchmarkHandle(b, false, nil) }

// BenchmarkHandleRemembered is the same with the dispatcher remembering the
// sessions it committed, as serve runs it: one round trip per message.
func BenchmarkHandleRemembered(b *testing.B) { benchmarkHandle(b, true, nil) }

// BenchmarkHandleMetered is BenchmarkHandleRemembered with the Prometheus
// metrics told of every message and commit, as serve runs it.
func BenchmarkHandleMetered(b *testing.B) {
	benchmarkHandle(b, true, metrics.New(metrics.Options{Languages: []string{"en", "et", "ru"}}))
}

func benchmarkHandle(b *testing.B, remember bool, meter runner.Meter) {
	f := setup(b, 16)
	if remember {
		f.disp = runner.NewDispatcher(runner.Config{Engine: f.engine, Store: f.st, Keys: f.keys, Log: quiet, Remember: 10_000, Meter: meter})
	}
	ctx := context.Background()
	inputs := []string{"hello", "1", "1", "2", "1", "2", "menu"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in := bot.Inbound{Channel: bot.Web, Address: fmt.Sprint("bench-", i%1000), ID: fmt.Sprint(i), Text: inputs[(i/1000)%len(inputs)], LangHints: []string{"et"}}
		if err := f.disp.Handle(ctx, in); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkHandleParallel is the same with as many senders as GOMAXPROCS
// times ten, as many people write at once.
func BenchmarkHandleParallel(b *testing.B) {
	f := setup(b, 16)
	ctx := context.Background()
	var seq atomic.Int64
	b.SetParallelism(10)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			in := bot.Inbound{Channel: bot.Web, Address: fmt.Sprint("par-", i%1000), ID: fmt.Sprint(i), Text: "1", LangHints: []string{"ru"}}
			if err := f.disp.Handle(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkIdleSessionBytes reports how much Redis memory one idle person
// takes: a session at the menu, once the day's dedupe marks have expired.
func BenchmarkIdleSessionBytes(b *testing.B) {
	f := setup(b, 16)
	ctx := context.Background()
	rdb := server.Client()
	defer rdb.Close()
	var total, n int64
	for b.Loop() {
		addr := fmt.Sprint("idle-", n)
		for j, text := range []string{"hello", "1", "1"} {
			if err := f.disp.Handle(ctx, bot.Inbound{Channel: bot.Telegram, Address: addr, ID: fmt.Sprint(j), Text: text, LangHints: []string{"et"}}); err != nil {
				b.Fatal(err)
			}
		}
		pid := f.keys.PersonID(bot.Telegram, addr)
		keys, err := rdb.Keys(ctx, "*:s:"+pid).Result()
		if err != nil || len(keys) != 1 {
			b.Fatalf("session key of %s: %v %v", pid, keys, err)
		}
		used, err := rdb.MemoryUsage(ctx, keys[0], 0).Result()
		if err != nil {
			b.Fatal(err)
		}
		total += used
		n++
	}
	b.ReportMetric(float64(total)/float64(n), "redis-bytes/idle-session")
}
