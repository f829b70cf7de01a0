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

// BenchmarkCommit commits one Telegram update after another for a few
// people of one partition, as the polling hot path does with remembered
// sessions: each commit marks its update by a bit, claims its new outbox
// entry, and removes the reply sent before it, recording it as the last one
// sent to its person. redis-µs/op is the time Redis itself reports for the
// commit script, nested calls included; redis-cpu-µs/op is all of Redis's
// CPU, the network and the script's own work too.
func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	st, rdb := newStore(b, store.Options{Partitions: 1})
	if err := st.EnsureGroups(ctx); err != nil {
		b.Fatal(err)
	}
	const people = 8
	type person struct {
		pid     string
		version int64
	}
	// The benchmark runs more than once on one Redis: every run has people
	// and a bitmap window of its own.
	run := time.Now().UnixNano()
	ps := make([]person, people)
	for i := range ps {
		ps[i].pid = strconv.FormatInt(run, 36) + "p" + strconv.Itoa(i)
	}
	reply := []byte(strings.Repeat("r", 120))
	session := []byte(strings.Repeat("s", 180))
	address := []byte(strings.Repeat("a", 40))
	var sent []store.Sent
	rdb.ConfigResetStat(ctx)
	cpu0 := redistest.CPU(ctx, rdb)
	b.ResetTimer()
	for i := range b.N {
		p := &ps[i%people]
		c := store.Commit{
			PID: p.pid, Version: p.version, Session: session, Address: address, Start: 1 << 30,
			MsgID: p.pid + strconv.Itoa(i), Seen: &store.SeenBit{Window: run + int64(i/4096), Bit: i % 4096},
			Now:    now.Add(time.Duration(i) * time.Millisecond),
			Out:    []store.Entry{{Channel: "telegram", Reply: reply, Ref: "k1"}},
			Counts: []string{"in.telegram"},
			Done:   sent,
		}
		got, msgs, err := st.CommitClaim(ctx, c, "bench")
		if err != nil || got != store.Committed || len(msgs) != 1 {
			b.Fatalf("commit %d: %v %d entries %v", i, got, len(msgs), err)
		}
		p.version = msgs[0].Seq
		sent = []store.Sent{{ID: msgs[0].ID, PID: p.pid, Seq: msgs[0].Seq}}
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
