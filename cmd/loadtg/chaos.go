package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline/helpline/bot/telegram"
	"github.com/helpline/helpline/bot/telegram/telegramtest"
)

// The chaos run (-chaos) plays users against the helpline while it breaks
// things: kill -9 of a helpline process under load, Redis shut down and
// restarted, Redis killed (it keeps an append-only file synced on every
// write), Redis paused. It runs in each Telegram mode: webhook, with two
// replicas behind a balancer that Telegram posts to until one answers 200;
// polling, with one replica that comes back under the same name, as a
// Kubernetes container restarted in its pod does. Each killed process comes
// back at once, a webhook replica under a new name, as a replaced pod does.
// From what the fake Bot API received it counts, per fault, lost replies,
// duplicates, reverted edits and the longest a user waited for a reply.

// chaosConfig is one chaos run.
type chaosConfig struct {
	users       int
	kills       int
	modes       []string
	redisFaults []string
	control     time.Duration // the time before the first fault
	helpline    string        // a built binary; empty builds one
	keep        bool          // keep the logs
}

// fault is one thing the run broke, and what the users saw of it.
type fault struct {
	name     string
	at       time.Time
	turns    int
	lost     int
	dups     int
	reverted int
	silence  time.Duration
}

// chaosReport is what one mode's run saw.
type chaosReport struct {
	mode   string
	faults []*fault // the first is the control window, before any fault
	kills  int
	stale  int64 // replies the helpline dropped as stale
}

func (r *chaosReport) total() fault {
	t := fault{name: "all faults"}
	for _, f := range r.faults[1:] {
		t.turns += f.turns
		t.lost += f.lost
		t.dups += f.dups
		t.reverted += f.reverted
		t.silence = max(t.silence, f.silence)
	}
	return t
}

func runChaos(ctx context.Context, c chaosConfig, stdout io.Writer) ([]*chaosReport, error) {
	dir, err := os.MkdirTemp("", "loadtg-chaos")
	if err != nil {
		return nil, err
	}
	if c.keep {
		fmt.Fprintln(stdout, "chaos: logs in", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	bin := c.helpline
	if bin == "" {
		if bin, err = buildHelpline(ctx, dir); err != nil {
			return nil, err
		}
	}
	var reports []*chaosReport
	for _, mode := range c.modes {
		r, err := chaosMode(ctx, c, mode, bin, filepath.Join(dir, mode))
		if err != nil {
			return reports, fmt.Errorf("%s: %w", mode, err)
		}
		reports = append(reports, r)
		printChaos(stdout, r)
	}
	return reports, nil
}

// chaosBench is one mode's run: Redis, the fake Bot API, the replicas.
type chaosBench struct {
	mode     string
	bin, dir string
	redis    *chaosRedis
	fake     *telegramtest.Fake
	replicas []*target
	webhooks *webhookDeliverer
	started  int
}

func chaosMode(ctx context.Context, c chaosConfig, mode, bin, dir string) (*chaosReport, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	rs, err := startChaosRedis(dir)
	if err != nil {
		return nil, err
	}
	defer rs.close()
	b := &chaosBench{mode: mode, bin: bin, dir: dir, redis: rs, fake: telegramtest.New(),
		webhooks: &webhookDeliverer{http: telegram.NewHTTPClient()}}
	defer b.fake.Close()
	b.webhooks.http.Timeout = 10 * time.Second
	crowd := newChaosCrowd(b.fake, c.users)
	n := 2
	switch mode {
	case "webhook":
		crowd.deliver = b.webhooks.deliver
	case "polling":
		n = 1
		crowd.queued = true
		crowd.deliver = func(_ context.Context, u []byte) { b.fake.Queue(u) }
	default:
		return nil, fmt.Errorf("unknown mode %q: want webhook or polling", mode)
	}
	for i := range n {
		if err := b.start(i); err != nil {
			return nil, err
		}
	}
	defer func() {
		for _, t := range b.replicas {
			if t != nil {
				t.stop()
			}
		}
	}()

	report := &chaosReport{mode: mode, faults: []*fault{{name: "none (control)", at: time.Now()}}}
	play, stop := context.WithCancel(ctx)
	played := make(chan struct{})
	go func() { crowd.play(play, 8*time.Second); close(played) }()
	rnd := rand.New(rand.NewPCG(uint64(len(mode)), 3))
	wait := func(d time.Duration) bool {
		select {
		case <-time.After(d):
			return true
		case <-ctx.Done():
			return false
		}
	}
	breakIt := func(name string, do func() error) error {
		report.faults = append(report.faults, &fault{name: name, at: time.Now()})
		return do()
	}
	ok := wait(c.control)
	for k := 0; ok && k < c.kills; k++ {
		i := k % n
		if err := breakIt(fmt.Sprintf("kill -9 helpline %d", k+1), func() error { return b.kill(i) }); err != nil {
			stop()
			return nil, err
		}
		report.kills++
		ok = wait(time.Duration(3000+rnd.IntN(3000)) * time.Millisecond)
	}
	for _, f := range c.redisFaults {
		if !ok {
			break
		}
		var do func()
		switch f {
		case "restart":
			do = func() { rs.shutdown(); time.Sleep(time.Second); rs.start() }
		case "kill":
			do = func() { rs.kill(); time.Sleep(time.Second); rs.start() }
		case "pause":
			do = func() { rs.pause(3 * time.Second) }
		default:
			stop()
			return nil, fmt.Errorf("unknown Redis fault %q: want restart, kill or pause", f)
		}
		breakIt("Redis "+f, func() error { do(); return nil })
		ok = wait(6 * time.Second)
	}
	if ok {
		wait(2 * time.Second)
	}
	stop()
	<-played
	account(report, crowd.events)
	report.stale = b.stale(ctx)
	return report, ctx.Err()
}

// start starts replica i: a new process, under the same name as before in
// polling mode and a new one in webhook mode.
func (b *chaosBench) start(i int) error {
	b.started++
	env := append(os.Environ(),
		"HELPLINE_ADDR=127.0.0.1:0",
		"HELPLINE_REDIS_URL=redis://"+b.redis.addr+"/0",
		"HELPLINE_SECRET=loadtg secret that is long enough for the keys",
		"HELPLINE_TELEGRAM_TOKEN="+fakeToken,
		"HELPLINE_TELEGRAM_API_URL="+b.fake.URL,
		"HELPLINE_TELEGRAM_SECRET="+webhookSecret,
		"HELPLINE_TELEGRAM_CHAT_RATE=0",
		"HELPLINE_TELEGRAM_RATE=0",
		"HELPLINE_LOG_FORMAT=json",
	)
	if b.mode == "polling" {
		env = append(env, "HELPLINE_TELEGRAM_MODE=polling", fmt.Sprintf("HELPLINE_REPLICA=chaos-%d", i))
	}
	cmd := exec.Command(b.bin)
	dieWithParent(cmd)
	t, err := start(fmt.Sprintf("helpline-%d-%d", i, b.started), cmd, env, b.dir, "web chat on ", true)
	if err != nil {
		return err
	}
	for len(b.replicas) <= i {
		b.replicas = append(b.replicas, nil)
	}
	b.replicas[i] = t
	b.webhooks.set(i, t.webhook+telegram.WebhookPath)
	return nil
}

// kill kills replica i with SIGKILL and starts it again.
func (b *chaosBench) kill(i int) error {
	b.webhooks.set(i, "")
	t := b.replicas[i]
	t.cmd.Process.Kill()
	t.cmd.Wait()
	return b.start(i)
}

// stale sums the replies the helpline dropped as stale, from its counters.
func (b *chaosBench) stale(ctx context.Context) int64 {
	rdb := redis.NewClient(&redis.Options{Addr: b.redis.addr})
	defer rdb.Close()
	var n int64
	iter := rdb.Scan(ctx, 0, "hl:{*}:st:*", 100).Iterator()
	for iter.Next(ctx) {
		v, _ := rdb.HGet(ctx, iter.Val(), "send.stale").Int64()
		n += v
	}
	return n
}

// account gives each event to a fault: a turn or a lost reply to the first
// fault that came while it waited, else to the last one before it; a
// duplicate to the last fault before it came.
func account(r *chaosReport, events []event) {
	before := func(t time.Time) *fault {
		f := r.faults[0]
		for _, g := range r.faults {
			if !g.at.After(t) {
				f = g
			}
		}
		return f
	}
	for _, e := range events {
		switch e.kind {
		case "turn", "lost":
			posted := e.at.Add(-e.wait)
			f := before(posted)
			for _, g := range r.faults {
				if g.at.After(posted) && !g.at.After(e.at) {
					f = g
					break
				}
			}
			f.turns++
			f.silence = max(f.silence, e.wait)
			if e.kind == "lost" {
				f.lost++
			}
		case "duplicate":
			before(e.at).dups++
		case "reverted":
			f := before(e.at)
			f.dups++
			f.reverted++
		}
	}
}

func printChaos(w io.Writer, r *chaosReport) {
	fmt.Fprintf(w, "chaos, %s mode:\n", r.mode)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "fault\tturns\tlost\tduplicates\treverted edits\tlongest silence\t")
	rows := slices.Clone(r.faults)
	t := r.total()
	rows = append(rows, &t)
	for _, f := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t\n", f.name, f.turns, f.lost, f.dups, f.reverted, f.silence.Round(10*time.Millisecond))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d helpline kills; %d late replies dropped as stale by the helpline\n", r.kills, r.stale)
}

// chaosFlags reads the chaos run's settings from the flags.
func chaosFlags(c config) (chaosConfig, error) {
	cc := chaosConfig{users: c.users, kills: c.kills, control: c.control, helpline: c.helpline, keep: c.keep,
		modes: strings.Split(c.modes, ","), redisFaults: strings.Split(c.redisFaults, ",")}
	if c.redisFaults == "" {
		cc.redisFaults = nil
	}
	if cc.kills < 0 || cc.kills > 50 {
		return cc, fmt.Errorf("want 0 to 50 kills")
	}
	return cc, nil
}
