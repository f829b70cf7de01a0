package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/helpline/helpline/bot/console"
	"github.com/helpline/helpline/bot/hours"
	"github.com/helpline/helpline/bot/runner"
	"github.com/helpline/helpline/bot/store"
)

// consoleConfig is every HELPLINE_* setting of the counsellor queue and
// the console.
type consoleConfig struct {
	Hours         *hours.Schedule // HELPLINE_HOURS_FILE
	WrapUp        []string        // HELPLINE_WRAPUP
	Unclaimed     time.Duration   // HELPLINE_UNCLAIMED_AFTER
	Interpreter   time.Duration   // HELPLINE_INTERPRETER_AFTER
	TranscriptTTL time.Duration   // HELPLINE_TRANSCRIPT_TTL
	Secure        bool            // HELPLINE_CONSOLE_SECURE
}

func readConsoleConfig(getenv func(string) string) (consoleConfig, error) {
	c := consoleConfig{WrapUp: console.DefaultWrapUp}
	e := env{getenv: getenv}
	c.Unclaimed = e.dur("HELPLINE_UNCLAIMED_AFTER", 15*time.Minute)
	c.Interpreter = e.dur("HELPLINE_INTERPRETER_AFTER", 10*time.Minute)
	c.TranscriptTTL = e.dur("HELPLINE_TRANSCRIPT_TTL", 7*24*time.Hour)
	if v := getenv("HELPLINE_WRAPUP"); v != "" {
		c.WrapUp = nil
		for _, w := range strings.Split(v, ",") {
			if w = strings.TrimSpace(w); w != "" {
				c.WrapUp = append(c.WrapUp, w)
			}
		}
	}
	c.Secure = getenv("HELPLINE_CONSOLE_SECURE") == "true"
	if path := getenv("HELPLINE_HOURS_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err == nil {
			c.Hours, err = hours.Parse(b)
		}
		if err != nil {
			e.fail(fmt.Errorf("HELPLINE_HOURS_FILE: %w", err))
		}
	}
	return c, e.err()
}

// setupConsole serves the counsellor console at /console and opens cases
// on handoffs. With the embedded Redis it adds a demo counsellor and prints
// its password once.
func setupConsole(w *wiring) error {
	cc, err := readConsoleConfig(w.getenv)
	if err != nil {
		return err
	}
	st := w.store.WithCaseTTL(cc.TranscriptTTL)
	opts := runner.CaseOptions{
		Interpreter: cc.Interpreter, Unclaimed: cc.Unclaimed,
		SessionTTL: w.cfg.SessionTTL, CaseTTL: cc.TranscriptTTL,
	}
	if cc.Hours != nil {
		opts.Open = cc.Hours.Open
	}
	cases := runner.NewCases(w.disp, st, w.cat, opts)
	w.senders[runner.CaseChannel] = cases
	w.background = append(w.background, cases.Run)
	con := console.New(st, cases, w.cat, w.log, time.Now, console.Options{WrapUp: cc.WrapUp, Secure: cc.Secure})
	con.Routes(w.mux)
	w.background = append(w.background, con.Run)
	w.onShutdown = append(w.onShutdown, con.Close)
	if w.cfg.RedisURL == "" {
		return addDemoCounsellor(w, st)
	}
	return nil
}

// addDemoCounsellor creates the demo mode's counsellor, a supervisor who
// speaks every shipped language, and prints its one-time password.
func addDemoCounsellor(w *wiring, st *store.Store) error {
	password := strings.ReplaceAll(console.NewPassword(), "-", "")
	hash, err := console.HashPassword(password)
	if err != nil {
		return err
	}
	err = st.AddAccount(context.Background(), store.Account{
		Name: "demo", Hash: hash, Role: "supervisor", Langs: w.cat.Languages(), Capacity: 5, Created: time.Now(),
	})
	if err != nil && !errors.Is(err, store.ErrAccountExists) {
		return err
	}
	fmt.Fprintf(w.stdout, "helpline: demo counsellor for /console/: name demo, password %s (shown once)\n", password)
	return nil
}
