package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/helpline/helpline/bot/console"
	"github.com/helpline/helpline/bot/hours"
	"github.com/helpline/helpline/bot/runner"
	"github.com/helpline/helpline/bot/store"
)

// config is every HELPLINE_* setting of serve, read once here and passed
// down as plain values. The README lists them all.
type config struct {
	Addr          string         // HELPLINE_ADDR
	MetricsAddr   string         // HELPLINE_METRICS_ADDR
	RedisURL      string         // HELPLINE_REDIS_URL
	Secret        string         // HELPLINE_SECRET
	FlowsDir      string         // HELPLINE_FLOWS_DIR
	LocalesDir    string         // HELPLINE_LOCALES_DIR
	Partitions    int            // HELPLINE_PARTITIONS
	SessionTTL    time.Duration  // HELPLINE_SESSION_TTL
	RestartAfter  time.Duration  // HELPLINE_RESTART_AFTER
	DedupeTTL     time.Duration  // HELPLINE_DEDUPE_TTL
	ExitURL       string         // HELPLINE_WEB_EXIT_URL
	WebPerMinute  int            // HELPLINE_WEB_RATE
	LogLevel      string         // HELPLINE_LOG_LEVEL
	LogFormat     string         // HELPLINE_LOG_FORMAT
	Consumer      string         // HELPLINE_REPLICA
	ShutdownGrace time.Duration  // HELPLINE_SHUTDOWN_GRACE
	Remember      int            // HELPLINE_REMEMBER
	CPUProfile    string         // HELPLINE_CPUPROFILE
	Proxies       []netip.Prefix // HELPLINE_TRUSTED_PROXIES

	// The counsellor queue and the console.
	Hours         *hours.Schedule // HELPLINE_HOURS_FILE
	WrapUp        []string        // HELPLINE_WRAPUP
	Unclaimed     time.Duration   // HELPLINE_UNCLAIMED_AFTER
	Interpreter   time.Duration   // HELPLINE_INTERPRETER_AFTER
	TranscriptTTL time.Duration   // HELPLINE_TRANSCRIPT_TTL
	// Secure marks the console cookie Secure (HELPLINE_CONSOLE_SECURE): on
	// by default, off only when set to false or when serving loopback
	// alone (see secureCookies).
	Secure    bool
	secureSet string
}

// secureCookies decides whether the console's cookie is Secure once the
// address to serve is known: yes, unless HELPLINE_CONSOLE_SECURE=false says
// otherwise or nothing but this machine can reach the server (a loopback
// address, where a browser has no TLS to use).
func (c *config) secureCookies() {
	switch c.secureSet {
	case "true":
		c.Secure = true
	case "false":
		c.Secure = false
	default:
		c.Secure = !loopback(c.Addr)
	}
}

// loopback reports whether addr (host:port) serves this machine only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// open reports whether counsellors are at work, by the opening hours; nil
// means always.
func (c config) open() func(time.Time) bool {
	if c.Hours == nil {
		return nil
	}
	return c.Hours.Open
}

func readConfig(getenv func(string) string) (config, error) {
	c := config{
		Addr:        getenv("HELPLINE_ADDR"),
		MetricsAddr: getenv("HELPLINE_METRICS_ADDR"),
		RedisURL:    getenv("HELPLINE_REDIS_URL"),
		Secret:      getenv("HELPLINE_SECRET"),
		FlowsDir:    getenv("HELPLINE_FLOWS_DIR"),
		LocalesDir:  getenv("HELPLINE_LOCALES_DIR"),
		ExitURL:     getenv("HELPLINE_WEB_EXIT_URL"),
		LogLevel:    getenv("HELPLINE_LOG_LEVEL"),
		LogFormat:   getenv("HELPLINE_LOG_FORMAT"),
		Consumer:    getenv("HELPLINE_REPLICA"),
		CPUProfile:  getenv("HELPLINE_CPUPROFILE"),
	}
	e := env{getenv: getenv}
	c.Partitions = e.num("HELPLINE_PARTITIONS", store.DefaultPartitions)
	c.WebPerMinute = e.num("HELPLINE_WEB_RATE", 30)
	c.Remember = e.num("HELPLINE_REMEMBER", 100_000)
	c.SessionTTL = e.dur("HELPLINE_SESSION_TTL", store.DefaultSessionTTL)
	c.RestartAfter = e.dur("HELPLINE_RESTART_AFTER", 24*time.Hour)
	c.DedupeTTL = e.dur("HELPLINE_DEDUPE_TTL", store.DefaultDedupeTTL)
	c.ShutdownGrace = e.dur("HELPLINE_SHUTDOWN_GRACE", 15*time.Second)
	if p, err := parseProxies(getenv("HELPLINE_TRUSTED_PROXIES")); err != nil {
		e.fail(err)
	} else {
		c.Proxies = p
	}
	c.Unclaimed = e.dur("HELPLINE_UNCLAIMED_AFTER", 15*time.Minute)
	c.Interpreter = e.dur("HELPLINE_INTERPRETER_AFTER", runner.DefaultInterpreter)
	c.TranscriptTTL = e.dur("HELPLINE_TRANSCRIPT_TTL", store.DefaultCaseTTL)
	c.WrapUp = console.DefaultWrapUp
	if v := getenv("HELPLINE_WRAPUP"); v != "" {
		c.WrapUp = nil
		for _, w := range strings.Split(v, ",") {
			if w = strings.TrimSpace(w); w != "" {
				c.WrapUp = append(c.WrapUp, w)
			}
		}
	}
	switch c.secureSet = getenv("HELPLINE_CONSOLE_SECURE"); c.secureSet {
	case "", "true", "false":
	default:
		e.fail(fmt.Errorf("HELPLINE_CONSOLE_SECURE=%q: want true or false", c.secureSet))
	}
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

// env reads HELPLINE_* values, collecting every mistake so that one start
// reports them all.
type env struct {
	getenv func(string) string
	errs   []error
}

// num reads a positive whole number; def when unset.
func (e *env) num(name string, def int) int {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		e.errs = append(e.errs, fmt.Errorf("%s=%q: want a positive whole number", name, v))
	}
	return n
}

// dur reads a positive duration; def when unset.
func (e *env) dur(name string, def time.Duration) time.Duration {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		e.errs = append(e.errs, fmt.Errorf("%s=%q: want a duration such as 24h or 90m", name, v))
	}
	return d
}

// fail records a mistake found by the caller.
func (e *env) fail(err error) { e.errs = append(e.errs, err) }

// err reports every mistake, or nil.
func (e *env) err() error {
	if len(e.errs) > 0 {
		return fmt.Errorf("configuration: %v", e.errs)
	}
	return nil
}
