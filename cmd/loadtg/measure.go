package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline/helpline/bot/store/redistest"
	"github.com/helpline/helpline/bot/telegram/telegramtest"
)

// row is one measurement: one target, a number of users, a duration.
type row struct {
	target  string
	users   int
	round   int
	res     *result
	cpu     time.Duration // the target process
	redis   time.Duration // the Redis server
	driver  time.Duration // this process: the users and the fake Bot API
	missing string        // why a CPU figure is missing
	// commands counts the Redis commands the target ran, by name, with
	// the time Redis spent in them.
	commands map[string]redisCommand
}

type redisCommand struct {
	calls int64
	time  time.Duration
}

func (r row) perUpdate(d time.Duration) time.Duration {
	if r.res.updates == 0 {
		return 0
	}
	return d / time.Duration(r.res.updates)
}

func (r row) rate() float64 { return float64(r.res.updates) / r.res.elapsed.Seconds() }

func (r row) percentile(p float64) time.Duration {
	l := r.res.latencies
	if len(l) == 0 {
		return 0
	}
	return l[min(len(l)-1, int(p*float64(len(l))))]
}

// bench is one sitting: a Redis, a fake Bot API and the crowd of users,
// shared by every target.
type bench struct {
	c     config
	dir   string
	fake  *telegramtest.Fake
	crowd *crowd
	rdb   *redis.Client
	redis *redistest.Server
	bin   string // the helpline binary, once built
}

func measure(ctx context.Context, c config, stdout io.Writer) error {
	dir, err := os.MkdirTemp("", "loadtg")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rs, err := redistest.Start()
	if err != nil {
		return err
	}
	defer rs.Close()
	b := &bench{c: c, dir: dir, redis: rs, rdb: rs.Client(), fake: telegramtest.New()}
	defer b.rdb.Close()
	defer b.fake.Close()
	b.fake.Quiet = true
	b.crowd = newCrowd(b.fake, c.users)
	for _, mode := range strings.Split(c.mode, ",") {
		b.c.mode = mode
		b.crowd.polling = mode == "polling"
		fmt.Fprintf(stdout, "loadtg: %s mode, %d users for %s and 1 user for %s per target in %d round(s), after %s of warm-up each; Redis %s, fake Bot API %s\n",
			mode, c.users, c.duration, c.single, c.rounds, c.warmup, rs.Addr, b.fake.URL)
		names := strings.Split(c.targets, ",")
		var rows []row
		for round := range c.rounds {
			for _, name := range names {
				rs, err := b.target(ctx, strings.TrimSpace(name), round)
				if err != nil {
					return err
				}
				rows = append(rows, rs...)
			}
			slices.Reverse(names) // ABBA: a drift in the machine's speed falls on both
		}
		report(stdout, merge(rows), rows, names, c.commands)
	}
	return nil
}

// target measures one target in one round. Each phase (every user, then
// one user alone) runs on a fresh process and, for the helpline, an empty
// Redis, so that the one user is alone: no conversation, queued case or
// notice is left from the crowd.
func (b *bench) target(ctx context.Context, name string, round int) ([]row, error) {
	type stage struct {
		users int
		d     time.Duration
	}
	n := time.Duration(b.c.rounds)
	phases := []stage{{b.c.users, b.c.duration / n}}
	if b.c.single > 0 {
		phases = append(phases, stage{1, b.c.single / n})
	}
	var rows []row
	for _, p := range phases {
		t, err := b.start(ctx, name, p.users, round)
		if err != nil {
			return rows, err
		}
		b.crowd.reset()
		r := b.phase(ctx, t, p.users, p.d)
		r.round = round
		rows = append(rows, r)
		t.stop()
		if err := ctx.Err(); err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// merge adds up the rounds of each target and number of users.
func merge(rows []row) []row {
	var out []row
	for _, r := range rows {
		m := find(out, r.target, r.users, -1)
		if m == nil {
			res := *r.res
			res.latencies = slices.Clone(r.res.latencies)
			r.res = &res
			r.commands = maps.Clone(r.commands)
			out = append(out, r)
			continue
		}
		m.res.updates += r.res.updates
		m.res.timeouts += r.res.timeouts
		m.res.failures += r.res.failures
		m.res.elapsed += r.res.elapsed
		m.res.latencies = append(m.res.latencies, r.res.latencies...)
		m.cpu += r.cpu
		m.redis += r.redis
		m.driver += r.driver
		for name, c := range r.commands {
			mc := m.commands[name]
			m.commands[name] = redisCommand{mc.calls + c.calls, mc.time + c.time}
		}
		if r.missing != "" {
			m.missing = r.missing
		}
	}
	for _, m := range out {
		slices.Sort(m.res.latencies)
	}
	return out
}

// start starts a target for a phase of users.
func (b *bench) start(ctx context.Context, name string, users, round int) (*target, error) {
	profile := ""
	if b.c.profile != "" {
		profile = filepath.Join(b.c.profile, fmt.Sprintf("%s-%s-%dusers-%d.prof", b.c.mode, name, users, round+1))
	}
	for _, e := range b.c.external {
		if e.name == name {
			if err := b.rdb.FlushAll(ctx).Err(); err != nil {
				return nil, err
			}
			return startExternal(e, b.fake.URL, b.redis.Addr, b.dir, b.c.mode)
		}
	}
	switch name {
	case "ceiling":
		return startCeiling(b.fake.URL, b.dir, profile, b.c.mode)
	case "helpline":
		if b.bin == "" {
			bin := b.c.helpline
			if bin == "" {
				var err error
				if bin, err = buildHelpline(ctx, b.dir); err != nil {
					return nil, err
				}
			}
			b.bin = bin
		}
		if err := b.rdb.FlushAll(ctx).Err(); err != nil {
			return nil, err
		}
		return startHelpline(b.bin, b.fake.URL, b.redis.Addr, b.dir, profile, b.c.mode == "polling")
	}
	return nil, fmt.Errorf("unknown target %q: want ceiling, helpline or the name of an -external", name)
}

// phase warms a target up, then measures users against it for d.
func (b *bench) phase(ctx context.Context, t *target, users int, d time.Duration) row {
	warm, cancel := context.WithTimeout(ctx, b.c.warmup)
	b.crowd.play(warm, t.webhook, users, b.c.updates)
	cancel()
	r := row{target: t.name, users: users}
	b.rdb.ConfigResetStat(ctx)
	cpu0, err := t.cpu()
	redis0 := redistest.CPU(ctx, b.rdb)
	self0 := selfCPU()
	run, cancel := context.WithTimeout(ctx, d)
	r.res = b.crowd.play(run, t.webhook, users, b.c.updates)
	cancel()
	r.driver = selfCPU() - self0
	r.redis = redistest.CPU(ctx, b.rdb) - redis0
	r.commands = commandStats(ctx, b.rdb)
	if cpu1, err2 := t.cpu(); err == nil && err2 == nil {
		r.cpu = cpu1 - cpu0
	} else {
		r.missing = fmt.Sprint(err, err2)
	}
	slices.Sort(r.res.latencies)
	return r
}

// report prints the merged rows, the ratios of the helpline to the ceiling
// and to every other target, and the throughput ratio of each round, which
// shows the machine's noise.
func report(w io.Writer, rows, rounds []row, names []string, commands bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tusers\tupdates\tupdates/s\tp50\tp90\tp99\tno reply\tbot CPU/update\tRedis CPU/update\tdriver CPU/update\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t\n",
			r.target, r.users, r.res.updates, r.rate(), ms(r.percentile(0.5)), ms(r.percentile(0.9)), ms(r.percentile(0.99)),
			r.res.timeouts+r.res.failures, us(r.perUpdate(r.cpu)), us(r.perUpdate(r.redis)), us(r.perUpdate(r.driver)))
	}
	tw.Flush()
	for _, users := range []int{rows[0].users, 1} {
		h, c := find(rows, "helpline", users, -1), find(rows, "ceiling", users, -1)
		if h == nil || c == nil || c.res.updates == 0 || c.cpu == 0 {
			continue
		}
		fmt.Fprintf(w, "helpline / ceiling, %d user(s): throughput %.2f (target >= 0.65), bot CPU per update %.2f (target <= 1.5), with Redis %.2f\n",
			users, h.rate()/c.rate(), ratio(h.perUpdate(h.cpu), c.perUpdate(c.cpu)), ratio(h.perUpdate(h.cpu+h.redis), c.perUpdate(c.cpu)))
	}
	var others []string
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "helpline" && n != "ceiling" && !slices.Contains(others, n) {
			others = append(others, n)
		}
	}
	for _, name := range others {
		for _, users := range []int{rows[0].users, 1} {
			h, o, c := find(rows, "helpline", users, -1), find(rows, name, users, -1), find(rows, "ceiling", users, -1)
			if o == nil || o.res.updates == 0 {
				continue
			}
			line := fmt.Sprintf("%s, %d user(s):", name, users)
			if h != nil {
				line += fmt.Sprintf(" helpline / %s throughput %.2f", name, h.rate()/o.rate())
				if o.cpu > 0 {
					line += fmt.Sprintf(", bot CPU per update %.2f", ratio(h.perUpdate(h.cpu), o.perUpdate(o.cpu)))
				}
			}
			if c != nil && c.res.updates > 0 {
				line += fmt.Sprintf("; %s / ceiling throughput %.2f", name, o.rate()/c.rate())
			}
			fmt.Fprintln(w, line)
		}
	}
	for _, other := range append([]string{"ceiling"}, others...) {
		var each []string
		for round := 0; ; round++ {
			h, c := find(rounds, "helpline", rows[0].users, round), find(rounds, other, rows[0].users, round)
			if h == nil || c == nil {
				break
			}
			if c.res.updates > 0 {
				each = append(each, fmt.Sprintf("%.2f", h.rate()/c.rate()))
			}
		}
		if len(each) > 1 {
			fmt.Fprintf(w, "helpline / %s throughput in each round, %d users: %s\n", other, rows[0].users, strings.Join(each, " "))
		}
	}
	if commands {
		for _, r := range rows {
			reportCommands(w, r)
		}
	}
	for _, r := range rows {
		if r.missing != "" {
			fmt.Fprintf(w, "%s: no CPU figure: %s\n", r.target, r.missing)
		}
	}
}

// find returns the row of target with users in round, or in any round when
// round is negative; nil when there is none.
func find(rows []row, target string, users, round int) *row {
	for i := range rows {
		if r := &rows[i]; r.target == target && r.users == users && (round < 0 || r.round == round) {
			return r
		}
	}
	return nil
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
func us(d time.Duration) string { return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond)) }

// commandStats reads the Redis commands run since the last CONFIG
// RESETSTAT, by name, with the time spent in them.
func commandStats(ctx context.Context, rdb *redis.Client) map[string]redisCommand {
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil
	}
	out := map[string]redisCommand{}
	for line := range strings.SplitSeq(info, "\n") {
		// cmdstat_evalsha:calls=12,usec=340,usec_per_call=28.33,...
		name, stats, ok := strings.Cut(strings.TrimSpace(line), ":")
		name, isCmd := strings.CutPrefix(name, "cmdstat_")
		if !ok || !isCmd || name == "info" || name == "config|resetstat" {
			continue
		}
		var c redisCommand
		for field := range strings.SplitSeq(stats, ",") {
			k, v, _ := strings.Cut(field, "=")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "calls":
				c.calls = n
			case "usec":
				c.time = time.Duration(n) * time.Microsecond
			}
		}
		out[name] = c
	}
	return out
}

// reportCommands prints the Redis commands of a row per update, the
// busiest first.
func reportCommands(w io.Writer, r row) {
	if len(r.commands) == 0 || r.res.updates == 0 {
		return
	}
	names := slices.Collect(maps.Keys(r.commands))
	slices.SortFunc(names, func(a, b string) int { return int(r.commands[b].time - r.commands[a].time) })
	fmt.Fprintf(w, "Redis commands per update, %s with %d user(s):", r.target, r.users)
	for _, name := range names {
		c := r.commands[name]
		if float64(c.calls)/float64(r.res.updates) < 0.005 {
			continue // the odd call: a claim, a ping
		}
		fmt.Fprintf(w, " %s %.2f (%.1fµs)", name, float64(c.calls)/float64(r.res.updates), float64(c.time)/float64(time.Microsecond)/float64(r.res.updates))
	}
	fmt.Fprintln(w)
}
