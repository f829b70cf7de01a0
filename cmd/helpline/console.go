package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/helpline/helpline/bot/console"
	"github.com/helpline/helpline/bot/runner"
	"github.com/helpline/helpline/bot/store"
)

// setupConsole serves the counsellor console at /console and opens cases
// on handoffs. With the embedded Redis it adds a demo counsellor and prints
// its password once.
func setupConsole(w *wiring) error {
	st, cc := w.store, w.cfg
	ticker := runner.NewTicker(w.queue, st, w.keys, w.log, cc.Unclaimed, 10*time.Second)
	w.background = append(w.background, ticker.Run)
	desk := runner.NewDesk(st, w.disp, w.keys, w.log, runner.DeskOptions{Interpreter: cc.Interpreter})
	con := console.New(st, desk, w.cat, w.log, time.Now, console.Options{WrapUp: cc.WrapUp, Secure: cc.Secure, Fields: w.engine.Set().Fields()})
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
	// Printed once the port is open: a password for a server that could
	// not start would be of no use.
	w.started = append(w.started, func(url string) {
		fmt.Fprintf(w.stdout, "helpline: demo counsellor for %s/console/: name demo, password %s (shown once)\n", url, password)
	})
	return nil
}
