// Command loadtg is the Telegram load driver: closed-loop simulated people
// write to a bot (/start, then tap a button or type, wait for the
// reply, again), a fake Bot API records the replies, and a real Redis holds
// the helpline's state. It measures, in one sitting, the helpline binary and
// a minimal stateless go-telegram/bot bot (the ceiling): updates a second,
// the time from posting an update to the fake receiving the reply, and the
// CPU each process spends per update. The targets take turns (-rounds), so
// that a slow spell of a shared machine falls on each of them.
//
//	go run ./cmd/loadtg -users 50 -duration 10s
//
// With -mode polling the updates wait in the fake Bot API for getUpdates
// instead, and -external measures a bot from elsewhere in the same sitting:
//
//	go run ./cmd/loadtg -mode polling -external 'grammy=node /tmp/peer/bot.js'
//
// With -chaos it breaks things under load instead (chaos.go):
//
//	go run ./cmd/loadtg -chaos -users 50 -kills 8
//
// Everything runs on 127.0.0.1, and every run is bounded in users, time and
// updates. It is a benchmark: it asserts nothing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"
)

// Bounds that keep a run small, whatever the flags say.
const (
	maxUsers    = 1000
	maxDuration = 2 * time.Minute
	maxUpdates  = 5_000_000
)

// gcPercent is the garbage collector's target of the driver and of the
// ceiling, which runs as this program: the helpline's own (cmd/helpline).
// The driver's collections would otherwise add to the measured time of
// every reply, and the ceiling would differ from the helpline in how it is
// tuned, not only in what it does.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtg:", err)
		os.Exit(1)
	}
}

type config struct {
	users    int
	duration time.Duration
	single   time.Duration
	warmup   time.Duration
	updates  int
	rounds   int
	targets  string
	helpline string // a built helpline binary; empty builds one
	mode     string // webhook or polling
	external []external
	role     string
	api      string
	profile  string // a directory for CPU profiles
	cpuprof  string // the ceiling's CPU profile
	commands bool   // report the Redis commands each target ran

	chaos       bool
	kills       int
	modes       string
	redisFaults string
	control     time.Duration
	keep        bool
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var c config
	fs := flag.NewFlagSet("loadtg", flag.ContinueOnError)
	fs.IntVar(&c.users, "users", 50, "simulated people writing at once (at most 1000)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured time per target with every user (at most 2m)")
	fs.DurationVar(&c.single, "single", 0, "measured time per target with one user alone (default: half of -duration, at most 5s; negative skips)")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured time before each measurement")
	fs.IntVar(&c.updates, "max-updates", 1_000_000, "updates per measurement at most")
	fs.IntVar(&c.rounds, "rounds", 2, "how many turns the targets take, each with its share of -duration and -single, in ABBA order, so that a slow spell of a shared machine falls on every target")
	fs.StringVar(&c.targets, "targets", "", "what to measure, in order (default: ceiling, helpline, and each -external)")
	fs.StringVar(&c.mode, "mode", "webhook", "how updates reach the bots: webhook (posted to each), polling (queued in the fake Bot API for getUpdates, in batches of up to 100), or both in one sitting: polling,webhook")
	fs.Func("external", "NAME=COMMAND: also measure a bot this repository does not hold, run as COMMAND (split at spaces, no shell); it reads the fake Bot API's root from LOADTG_API_ROOT, the token from LOADTG_TOKEN, the mode from LOADTG_MODE, the webhook secret from LOADTG_WEBHOOK_SECRET and an empty Redis it may keep state in from LOADTG_REDIS_URL, and prints \"loadtg ready\" once it polls, or \"loadtg ready URL\" with its webhook's URL; may be repeated", func(s string) error {
		e, err := parseExternal(s)
		if err == nil {
			c.external = append(c.external, e)
		}
		return err
	})
	fs.StringVar(&c.helpline, "helpline", "", "a built helpline binary (default: build ./cmd/helpline)")
	fs.StringVar(&c.profile, "profile", "", "a directory to write CPU profiles of the driver and of each target's phases to, for go tool pprof")
	fs.BoolVar(&c.commands, "redis-commands", false, "also report the Redis commands each target ran per update, and the time Redis spent in them")
	fs.StringVar(&c.cpuprof, "cpuprofile", "", "internal: the file the ceiling bot writes its CPU profile to")
	fs.BoolVar(&c.chaos, "chaos", false, "break things under load instead of measuring speed: kill -9 the helpline, restart, kill and pause Redis; count lost and duplicate replies, reverted edits and the longest silence")
	fs.IntVar(&c.kills, "kills", 8, "chaos: how often the helpline is killed, per mode")
	fs.StringVar(&c.modes, "modes", "polling,webhook", "chaos: the Telegram modes to run")
	fs.StringVar(&c.redisFaults, "redis-faults", "restart,kill,pause", "chaos: what is done to Redis after the kills, in order")
	fs.DurationVar(&c.control, "control", 5*time.Second, "chaos: the time under load before the first fault, the control")
	fs.BoolVar(&c.keep, "keep", false, "chaos: keep the processes' logs, and say where")
	fs.StringVar(&c.role, "role", "", "internal: run as the ceiling bot")
	fs.StringVar(&c.api, "api", "", "internal: the Bot API of the ceiling bot")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.role == "ceiling" {
		if c.cpuprof != "" {
			stop, err := profileCPU(c.cpuprof)
			if err != nil {
				return err
			}
			defer stop()
		}
		return serveCeiling(ctx, c.api, c.mode, stdout)
	}
	if c.profile != "" {
		abs, err := filepath.Abs(c.profile)
		if err != nil {
			return err
		}
		c.profile = abs
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return err
		}
		stop, err := profileCPU(filepath.Join(c.profile, "driver.prof"))
		if err != nil {
			return err
		}
		defer stop()
	}
	for _, m := range strings.Split(c.mode, ",") {
		if m != "webhook" && m != "polling" {
			return fmt.Errorf("-mode %q: want webhook, polling or both", c.mode)
		}
	}
	if c.chaos {
		if c.users < 1 || c.users > maxUsers {
			return errors.New("want 1 to 1000 users")
		}
		cc, err := chaosFlags(c)
		if err != nil {
			return err
		}
		_, err = runChaos(ctx, cc, stdout)
		return err
	}
	if c.users < 1 || c.users > maxUsers || c.duration <= 0 || c.duration > maxDuration || c.updates < 1 || c.updates > maxUpdates || c.warmup < 0 || c.warmup > maxDuration || c.rounds < 1 || c.rounds > 10 {
		return errors.New("want 1 to 1000 users, a duration up to 2m, 1 to 5000000 updates and 1 to 10 rounds")
	}
	if c.targets == "" {
		c.targets = "ceiling,helpline"
		for _, e := range c.external {
			c.targets += "," + e.name
		}
	}
	if c.single == 0 {
		c.single = min(c.duration/2, 5*time.Second)
	}
	c.single = min(c.single, maxDuration)
	return measure(ctx, c, stdout)
}

// profileCPU starts a CPU profile written to path; the returned function
// ends it.
func profileCPU(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
