package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow/flowtest"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/store"
	"github.com/helpline/helpline/bot/store/redistest"
	"github.com/helpline/helpline/bot/telegram/telegramtest"
)

// TestClusterFailover serves a load on a Redis Cluster of three masters
// with a replica each, and kills a master in the middle.
func TestClusterFailover(t *testing.T) {
	c, err := redistest.StartCluster(3, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close) // after the helplines stop
	serveThroughFailover(t, failover{
		url: c.URL(),
		kill: func(ctx context.Context, key string) error {
			_, err := c.KillMaster(ctx, key)
			return err
		},
		wait: c.WaitFailover,
		logs: c.Logs,
	})
}

// TestSentinelFailover serves a load on a master and a replica watched by
// three Sentinels, and kills the master in the middle.
func TestSentinelFailover(t *testing.T) {
	g, err := redistest.StartSentinel(3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close) // after the helplines stop
	serveThroughFailover(t, failover{
		url: g.URL(),
		kill: func(ctx context.Context, _ string) error {
			_, err := g.KillMaster(ctx)
			return err
		},
		wait: g.WaitFailover,
		logs: g.Logs,
	})
}

// failover is a Redis that can lose a master.
type failover struct {
	url  string                                      // HELPLINE_REDIS_URL
	kill func(ctx context.Context, key string) error // kill the master that serves key
	wait func(ctx context.Context) error             // wait until a replica took over
	logs func() string                               // the Redis logs, for a failure
}

// The load of a failover test.
const (
	failoverPeople = 30
	// failoverKillAt is how many messages are accepted before the master
	// is killed: some people are in the middle of their first round.
	failoverKillAt = failoverPeople * 5
	// failoverResume bounds how long a message may wait, from its first
	// delivery to its acceptance, Telegram redelivering it all the while.
	failoverResume = 30 * time.Second
	// failoverPause is how long a person waits between a reply and their
	// next message: it keeps the load to a few hundred messages a second.
	failoverPause = 100 * time.Millisecond
)

// serveThroughFailover runs two helpline replicas on one Redis, each with
// its own outbox consumer, and people on Telegram who walk the self-check
// and ask to be forgotten, round after round, every update going to either
// replica. In the middle a master is killed. An update the helpline does
// not accept (it answers 503 while Redis fails over, or not at all) is
// delivered again, as Telegram does, until it is. Every accepted message
// must get its reply, and the conversation must go on from it (the seven
// answers of the self-check counted, nothing committed forgotten); every
// person must finish a round begun after the failover; no reply is sent
// twice, and none is left in the outbox to be sent again later.
func serveThroughFailover(t *testing.T, r failover) {
	fake := telegramtest.New()
	defer fake.Close()
	var servers []*server
	for _, name := range []string{"replica-a", "replica-b"} {
		servers = append(servers, spawnServer(map[string]string{
			"HELPLINE_REDIS_URL":          r.url,
			"HELPLINE_SECRET":             testSecret,
			"HELPLINE_REPLICA":            name,
			"HELPLINE_TELEGRAM_TOKEN":     fake.Token,
			"HELPLINE_TELEGRAM_API_URL":   fake.URL,
			"HELPLINE_TELEGRAM_SECRET":    telegramSecret,
			"HELPLINE_TELEGRAM_CHAT_RATE": "0",
			"HELPLINE_TELEGRAM_RATE":      "0",
		}))
	}
	_, cat := flowtest.Shipped(t) // while the replicas start
	en := func(id string) string { s, _ := cat.Text("en", id, nil, nil); return s }
	signs := selfcheckSigns(t)
	for _, s := range servers {
		s.await(t)
	}
	t.Cleanup(func() { // both stop at once; each server's own cleanup waits for it
		for _, s := range servers {
			s.cancel()
		}
	})
	failed := func(format string, args ...any) {
		t.Helper()
		var logs strings.Builder
		for i, s := range servers {
			fmt.Fprintf(&logs, "--- helpline %d\n%s\n", i, tailLines(s.logs.String(), 40))
		}
		t.Fatalf(format+"\n%s%s", append(args, logs.String(), tailLines(r.logs(), 400))...)
	}
	keys, err := secret.New([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	chat := func(i int) int64 { return 7_700_000 + int64(i) }
	// The master to kill serves the first person's partition.
	layout := store.New(nil, store.Options{})
	victim := fmt.Sprintf("hl:{%d}:out", layout.Partition(keys.PersonID(bot.Telegram, telegramtest.Address(chat(0)))))

	var (
		accepted, redelivered atomic.Int64
		killNow               = make(chan struct{})
		failedOver            = make(chan struct{})
		mu                    sync.Mutex
		longest               time.Duration // the longest a message waited to be accepted
		perChat               = map[int64]int{}
	)
	hc := &http.Client{Timeout: 10 * time.Second}
	post := func(url string, update []byte) int {
		req, _ := http.NewRequest(http.MethodPost, url+"/telegram/webhook", bytes.NewReader(update))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", telegramSecret)
		resp, err := hc.Do(req)
		if err != nil {
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	person := func(i int) *telegramtest.Person {
		pt := goroutineT{t}
		p := &telegramtest.Person{T: pt, Fake: fake, Chat: chat(i), Lang: "en"}
		next := i // the replica the next delivery goes to, as a load balancer turns
		p.Deliver = func(update []byte) {
			time.Sleep(failoverPause)
			first := time.Now()
			delay := 50 * time.Millisecond
			for try := 0; ; try++ {
				next++
				if post(servers[next%len(servers)].url, update) == http.StatusOK {
					break
				}
				redelivered.Add(1)
				if time.Since(first) > failoverResume {
					pt.Fatalf("person %d: an update was not accepted in %v of redelivery (%d tries)", i, failoverResume, try+1)
				}
				time.Sleep(delay)
				delay = min(2*delay, time.Second)
			}
			mu.Lock()
			longest = max(longest, time.Since(first))
			perChat[p.Chat]++
			mu.Unlock()
			if accepted.Add(1) == failoverKillAt {
				close(killNow)
			}
		}
		return p
	}
	round := func(p *telegramtest.Person) {
		r := p.Say("hello")
		r = p.Tap(r.Buttons[0].Text) // English
		p.Tap(en("welcome.safe_yes"))
		r = p.Tap(en("menu.selfcheck"))
		answered := 0
		for len(r.Buttons) > 0 && r.Buttons[0].Text == en("common.yes") {
			r = p.Tap(en("common.yes"))
			answered++
		}
		if answered != signs || !strings.Contains(r.Text, en("danger.offer")) {
			p.T.Fatalf("chat %d: after %d yes answers, no urgent offer: %q", p.Chat, answered, r.Text)
		}
		if r = p.Tap(en("selfcheck.see_result")); !strings.Contains(r.Text, fmt.Sprint(answered)) {
			p.T.Fatalf("chat %d: the result should count %d signs: %q", p.Chat, answered, r.Text)
		}
		if r = p.Say("forget me"); !strings.Contains(r.Text, en("erase.done")) {
			p.T.Fatalf("chat %d: erase answered %q", p.Chat, r.Text)
		}
	}

	var wg sync.WaitGroup
	var rounds atomic.Int64
	for i := range failoverPeople {
		wg.Go(func() {
			p := person(i)
			for n := 0; n < 50; n++ {
				after := isClosed(failedOver)
				round(p)
				rounds.Add(1)
				if after {
					return
				}
			}
			p.T.Fatalf("person %d: 50 rounds and the failover is not over", i)
		})
	}
	var killedAt time.Time
	var took time.Duration
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	select {
	case <-killNow:
	case <-ctx.Done():
		failed("only %d messages accepted before the kill", accepted.Load())
	}
	killedAt = time.Now()
	if err := r.kill(ctx, victim); err != nil {
		failed("kill the master: %v", err)
	}
	atKill := accepted.Load()
	if err := r.wait(ctx); err != nil {
		close(failedOver)
		wg.Wait()
		failed("%v", err)
	}
	took = time.Since(killedAt)
	close(failedOver)
	wg.Wait()
	if t.Failed() {
		failed("the load did not get through the failover")
	}
	t.Logf("%d people, %d rounds, %d messages accepted (%d before the kill), %d deliveries refused and made again; failover took %v; the longest a message waited to be accepted: %v",
		failoverPeople, rounds.Load(), accepted.Load(), atKill, redelivered.Load(), took.Round(time.Millisecond), longest.Round(time.Millisecond))
	if redelivered.Load() == 0 {
		failed("no delivery was refused: the failover did not touch the load")
	}

	// Nothing is left in the outbox to be sent again after a claim, and no
	// person got more replies than they sent messages.
	rdb, closeRedis, err := openRedis(r.url, 4, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeRedis()
	st := store.New(rdb, store.Options{})
	loadDone := time.Now()
	var left int64
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		left = 0
		for part := range st.Partitions() {
			n, err := rdb.XLen(ctx, fmt.Sprintf("hl:{%d}:out", part)).Result()
			if err != nil {
				n = 1 // not readable yet: look again
			}
			left += n
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			var pending []string
			for part := range st.Partitions() {
				if p, err := rdb.XPending(ctx, fmt.Sprintf("hl:{%d}:out", part), "send").Result(); err == nil && p.Count > 0 {
					pending = append(pending, fmt.Sprintf("partition %d: %d pending %v", part, p.Count, p.Consumers))
				}
			}
			failed("%d outbox entries are left, to be sent again: %v", left, pending)
		}
	}
	t.Logf("outbox empty %v after the load", time.Since(loadDone).Round(time.Millisecond))
	replies := map[int64]int{}
	for _, c := range fake.Calls() {
		if c.OK && (c.Method == "sendMessage" || c.Method == "editMessageText") {
			replies[c.Chat()]++
		}
	}
	for i := range failoverPeople {
		if got, want := replies[chat(i)], perChat[chat(i)]; got != want {
			t.Errorf("person %d got %d replies to %d messages", i, got, want)
		}
	}
	for i, s := range servers {
		if logs := s.logs.String(); strings.Contains(logs, "panic") {
			t.Errorf("helpline %d logged a panic:\n%s", i, logs)
		}
	}
}

// goroutineT lets a person's goroutine fail the test: Fatalf reports the
// failure and ends that goroutine alone, as FailNow may not be called off
// the test's own goroutine.
type goroutineT struct{ testing.TB }

func (g goroutineT) Fatalf(format string, args ...any) {
	g.Helper()
	g.Errorf(format, args...)
	runtime.Goexit()
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
