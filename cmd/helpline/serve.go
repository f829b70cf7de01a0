package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/bot/metrics"
	"github.com/helpline/helpline/bot/runner"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/store"
	"github.com/helpline/helpline/bot/webchat"
)

// runServe serves the channels until ctx ends, then shuts down gracefully:
// requests in flight finish, the senders finish what they hold, and only
// then does Redis close.
func runServe(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := readConfig(getenv)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	if cfg.CPUProfile != "" {
		stop, err := profileCPU(cfg.CPUProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	cont, err := loadContent(cfg.FlowsDir, cfg.LocalesDir)
	if err != nil {
		return err
	}
	cat := cont.cat
	engine, err := cont.engine(flow.Options{Pause: cfg.RestartAfter, Open: cfg.open()})
	if err != nil {
		return err
	}
	keys, err := openSecret(cfg.Secret, log)
	if err != nil {
		return err
	}
	rdb, closeRedis, err := openRedis(cfg.RedisURL, cfg.Partitions+64, log)
	if err != nil {
		return err
	}
	defer closeRedis()
	if cfg.Addr == "" {
		cfg.Addr = ":8080"
		if cfg.RedisURL == "" {
			cfg.Addr = "localhost:8080" // the demo mode serves this machine only
		}
	}
	if cfg.RedisURL == "" && !loopback(cfg.Addr) && getenv("HELPLINE_DEMO_ANYWHERE") != "true" {
		return fmt.Errorf("no HELPLINE_REDIS_URL: the embedded demo, with its demo counsellor, serves this machine only, and HELPLINE_ADDR=%s is not a loopback address. Set HELPLINE_REDIS_URL for a real deployment, HELPLINE_ADDR=localhost:8080 for the demo, or HELPLINE_DEMO_ANYWHERE=true to show the demo on every interface", cfg.Addr)
	}
	cfg.secureCookies()
	st := store.New(rdb, store.Options{Partitions: cfg.Partitions, SessionTTL: cfg.SessionTTL, DedupeTTL: cfg.DedupeTTL, CaseTTL: cfg.TranscriptTTL})
	meters := metrics.New(metrics.Options{Languages: cat.Languages(), Source: st})
	store.OnError(rdb, meters.RedisError)
	senders := map[bot.Channel]bot.Sender{} // each channel's setup adds its own
	queue := runner.NewQueue(st, keys, cat, log, runner.QueueOptions{})
	delivery := runner.NewDelivery(st, keys, senders, queue, log, runner.DeliveryOptions{Consumer: consumerName(cfg.Consumer), Meter: meters, Urgent: urgentReplies(engine.Set())})
	w := &wiring{
		cfg: cfg, getenv: getenv, log: log, stdout: stdout, engine: engine, cat: cat, store: st, keys: keys,
		mux: http.NewServeMux(), senders: senders, queue: queue,
		disp: runner.NewDispatcher(runner.Config{Engine: engine, Store: st, Keys: keys, Log: log, Courier: delivery, Remember: cfg.Remember, Meter: meters}),
	}
	for _, setup := range channels {
		if err := setup(w); err != nil {
			return err
		}
	}
	mux := w.mux
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.Handle("GET /readyz", &readiness{checks: append([]func(context.Context) error{st.Ping}, w.ready...), limit: time.Second, log: log})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (set HELPLINE_ADDR to serve elsewhere, such as localhost:8081): %w", cfg.Addr, err)
	}
	msrv, mln, err := metricsServer(cfg.MetricsAddr, meters, log)
	if err != nil {
		ln.Close()
		return err
	}
	// A request must arrive whole within ReadTimeout (a body trickled a
	// byte at a time is cut off), and an idle keep-alive connection closes
	// after IdleTimeout. There is no write timeout: the event streams of
	// the web chat and the console stay open as long as their page.
	srv := &http.Server{Handler: behindProxies(cfg.Proxies, mux), ReadHeaderTimeout: timeouts.header,
		ReadTimeout: timeouts.read, IdleTimeout: timeouts.idle, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	for _, f := range w.onShutdown {
		srv.RegisterOnShutdown(f)
	}

	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	for _, f := range w.background {
		wg.Go(func() { f(work) })
	}
	wg.Go(func() { delivery.Run(work) })
	serveErr := make(chan error, 2)
	go func() { serveErr <- srv.Serve(ln) }()
	if msrv != nil {
		go func() { serveErr <- msrv.Serve(mln) }()
		defer msrv.Close()
	}
	url := "http://" + ln.Addr().String()
	log.Info("serving", "url", url, "languages", cat.Languages(), "channels", len(w.senders))
	fmt.Fprintf(stdout, "helpline: web chat on %s/\n", url)
	fmt.Fprintf(stdout, "helpline: counsellor console on %s/console/\n", url)
	if mln != nil {
		fmt.Fprintf(stdout, "helpline: metrics on http://%s/metrics\n", mln.Addr())
	}
	for _, f := range w.started {
		f(url)
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		stopWork()
		wg.Wait()
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	stopWork()
	wg.Wait()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// wiring is what serve builds once and hands to each channel's setup: the
// shared parts, and the lists a setup adds its own to.
type wiring struct {
	cfg    config
	getenv func(string) string
	log    *slog.Logger
	stdout io.Writer
	engine *flow.Engine
	cat    *lang.Catalog
	store  *store.Store
	keys   *secret.Keys
	disp   *runner.Dispatcher
	queue  *runner.Queue

	mux        *http.ServeMux
	senders    map[bot.Channel]bot.Sender
	background []func(ctx context.Context)   // run until shutdown
	onShutdown []func()                      // called when shutdown begins
	started    []func(url string)            // called once the port is open
	ready      []func(context.Context) error // checked by /readyz
}

// channels are set up in this order; each reads its own settings and does
// nothing when they are absent.
var channels = []func(*wiring) error{setupWeb, setupTwilio, setupConsole, setupTelegram}

// setupWeb serves the anonymous web chat at /.
func setupWeb(w *wiring) error {
	chat := webchat.New(w.disp, w.engine, w.store, w.keys, w.cat, w.log, webchat.Options{ExitURL: w.cfg.ExitURL, PerToken: w.cfg.WebPerMinute})
	chat.Routes(w.mux)
	w.senders[bot.Web] = chat
	w.background = append(w.background, chat.Run)
	w.onShutdown = append(w.onShutdown, chat.Close)
	return nil
}

// timeouts of the HTTP server: a request's header must arrive within
// header and the whole request within read; a keep-alive connection with
// no request closes after idle. Tests shorten them.
var timeouts = struct{ header, read, idle time.Duration }{10 * time.Second, 30 * time.Second, 2 * time.Minute}

// openSecret derives the keys from HELPLINE_SECRET, or from a random secret
// that lives as long as this process.
func openSecret(s string, log *slog.Logger) (*secret.Keys, error) {
	if s == "" {
		log.Warn("no HELPLINE_SECRET: using a random one; no session or sealed address will survive a restart")
		return secret.New(secret.Random())
	}
	k, err := secret.New([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("HELPLINE_SECRET: %w", err)
	}
	return k, nil
}

// consumerName names this replica in the outbox consumer group.
func consumerName(configured string) string {
	if configured != "" {
		return configured
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%d", host, os.Getpid(), time.Now().UnixNano()%1e6)
}

// newLogger logs JSON when stderr is not a terminal, text when it is.
func newLogger(cfg config, stderr io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if cfg.LogLevel != "" {
		if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
			return nil, fmt.Errorf("HELPLINE_LOG_LEVEL: %w", err)
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "" {
		format = "json"
		if f, ok := stderr.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(stderr, opts)), nil
	}
	return nil, fmt.Errorf("HELPLINE_LOG_FORMAT=%q: want json or text", format)
}
