package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// readiness answers /readyz: 200 when every check passes within the limit,
// 503 at once when one fails or does not answer in time (a Redis that
// stalls or is still loading its data). It logs each change between ready
// and not ready once, not every probe.
type readiness struct {
	checks []func(context.Context) error
	limit  time.Duration
	log    *slog.Logger

	mu       sync.Mutex
	notReady bool
}

// ServeHTTP runs the checks, each bounded by the limit even when the check
// itself would wait longer.
func (r *readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), r.limit)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		for _, check := range r.checks {
			if err := check(ctx); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	r.note(err)
	if err != nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ready\n")
}

// note logs a change of readiness.
func (r *readiness) note(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil && !r.notReady:
		r.notReady = true
		r.log.Warn("not ready", "err", err)
	case err == nil && r.notReady:
		r.notReady = false
		r.log.Info("ready again")
	}
}
