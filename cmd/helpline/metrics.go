package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/helpline/helpline/bot/metrics"
)

// metricsServer serves /metrics on its own address, HELPLINE_METRICS_ADDR;
// nil when it is not set. The metrics name no person, yet they move when a
// person writes: an alarm counted, a case queued. Whoever watches a
// person's phone and could also watch the metrics would learn what the
// person's message did, so they are kept off the public listener, for
// Prometheus alone to reach.
func metricsServer(addr string, m *metrics.Metrics, log *slog.Logger) (*http.Server, net.Listener, error) {
	if addr == "" {
		return nil, nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on HELPLINE_METRICS_ADDR=%s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	return srv, ln, nil
}
