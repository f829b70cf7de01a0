// Command helpline is the helpline's one binary: it serves the channels and
// the console, checks flows, and simulates conversations in a terminal.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// gcPercent is the garbage collector's target when GOGC is not set. The
// live heap is a few megabytes, so the default of 100 collects many times a
// second under load; at 400 a replica under the load driver's 50 users
// held about 70 MB instead of 40, and one user alone saw a p99 a quarter
// of a millisecond lower. GOMEMLIMIT, when set, still bounds the heap.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "helpline:", err)
		os.Exit(1)
	}
}

// isHelp reports whether arg asks for the usage.
func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// run is the whole program, with its world passed in so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	if cmd == "serve" && len(args) > 0 {
		if isHelp(args[0]) {
			fmt.Fprint(stdout, usage)
			return nil
		}
		return fmt.Errorf("serve takes no arguments, got %q: it is set up with HELPLINE_* environment variables (the README lists them)\n%s", args, usage)
	}
	switch cmd {
	case "serve":
		return runServe(ctx, getenv, stdout, stderr)
	case "lint":
		return runLint(args, getenv, stdout, stderr)
	case "chat":
		return runChat(ctx, args, getenv, stdin, stdout)
	case "counsellor":
		return runCounsellor(ctx, args, getenv, stdin, stdout)
	case "telegram":
		return runTelegram(ctx, args, getenv, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage: helpline [command] [flags]

commands:
  serve     serve the channels and the console (the default)
  lint      check the flows and the locales
  chat      talk to the flows in this terminal, with no Redis and no network
  telegram  webhook set|delete|info: register the Telegram webhook
  counsellor  add, list, disable or enable console accounts
`
