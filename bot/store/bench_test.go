package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot/store"
	"github.com/helpline/helpline/bot/store/redistest"
)

// BenchmarkCommit commits one message after another for a few people, as
// the hot path does with remembered sessions: each commit claims its new
// outbox entry and removes the one sent before it. redis-µs/op is the time
// Redis itself reports for the commit script, nested calls included.
func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	st, rdb := newStore(b, store.Options{})
	const people = 8
	type person struct {
		version int64
		sent    string
	}
	ps := make([]person, people)
	run := strconv.FormatInt(time.Now().UnixNano(), 36) // the benchmark runs more than once on one Redis
	reply := []byte(strings.Repeat("r", 200))
	rdb.ConfigResetStat(ctx)
	cpu0 := redistest.CPU(ctx, rdb)
	b.ResetTimer()
	for i := range b.N {
		p := &ps[i%people]
		pid := run + "p" + strconv.Itoa(i%people)
		c := store.Commit{
			PID: pid, Version: p.version, Session: []byte(strings.Repeat("s", 80)), Address: []byte(strings.Repeat("a", 40)),
			MsgID: strconv.Itoa(i), Now: now.Add(time.Duration(i) * time.Millisecond),
			Out:    []store.Entry{{Channel: "telegram", Reply: reply, Ref: "k1"}},
			Counts: []string{"in.telegram"},
		}
		if p.sent != "" {
			c.Done = []store.Sent{{ID: p.sent}}
		}
		got, msgs, err := st.CommitClaim(ctx, c, "bench")
		if err != nil || got != store.Committed {
			b.Fatalf("commit %d: %v %v", i, got, err)
		}
		if p.version == 0 {
			rec, _ := st.Load(ctx, pid)
			p.version = rec.Version
		} else {
			p.version++
		}
		p.sent = ""
		if len(msgs) == 1 {
			p.sent = msgs[0].ID
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(redistest.CPU(ctx, rdb)-cpu0)/float64(time.Microsecond)/float64(b.N), "redis-cpu-µs/op")
	info := rdb.Info(ctx, "commandstats").Val()
	for line := range strings.SplitSeq(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_evalsha:"); ok {
			var calls, usec int64
			fmt.Sscanf(rest, "calls=%d,usec=%d", &calls, &usec)
			if calls > 0 {
				b.ReportMetric(float64(usec)/float64(calls), "redis-µs/op")
			}
		}
	}
}
