package main

import (
	"fmt"
	"strconv"
	"time"
)

// config is every HELPLINE_* setting of serve, read once here and passed
// down as plain values. The README lists them all.
type config struct {
	Addr          string        // HELPLINE_ADDR
	RedisURL      string        // HELPLINE_REDIS_URL
	Secret        string        // HELPLINE_SECRET
	FlowsDir      string        // HELPLINE_FLOWS_DIR
	LocalesDir    string        // HELPLINE_LOCALES_DIR
	Partitions    int           // HELPLINE_PARTITIONS
	SessionTTL    time.Duration // HELPLINE_SESSION_TTL
	RestartAfter  time.Duration // HELPLINE_RESTART_AFTER
	DedupeTTL     time.Duration // HELPLINE_DEDUPE_TTL
	ExitURL       string        // HELPLINE_WEB_EXIT_URL
	WebPerMinute  int           // HELPLINE_WEB_RATE
	LogLevel      string        // HELPLINE_LOG_LEVEL
	LogFormat     string        // HELPLINE_LOG_FORMAT
	Consumer      string        // HELPLINE_REPLICA
	ShutdownGrace time.Duration // HELPLINE_SHUTDOWN_GRACE
}

func readConfig(getenv func(string) string) (config, error) {
	c := config{
		Addr:       getenv("HELPLINE_ADDR"),
		RedisURL:   getenv("HELPLINE_REDIS_URL"),
		Secret:     getenv("HELPLINE_SECRET"),
		FlowsDir:   getenv("HELPLINE_FLOWS_DIR"),
		LocalesDir: getenv("HELPLINE_LOCALES_DIR"),
		ExitURL:    getenv("HELPLINE_WEB_EXIT_URL"),
		LogLevel:   getenv("HELPLINE_LOG_LEVEL"),
		LogFormat:  getenv("HELPLINE_LOG_FORMAT"),
		Consumer:   getenv("HELPLINE_REPLICA"),
	}
	var errs []error
	num := func(name string, def int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive whole number", name, v))
		}
		return n
	}
	dur := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a duration such as 24h or 90m", name, v))
		}
		return d
	}
	c.Partitions = num("HELPLINE_PARTITIONS", 16)
	c.WebPerMinute = num("HELPLINE_WEB_RATE", 30)
	c.SessionTTL = dur("HELPLINE_SESSION_TTL", 30*24*time.Hour)
	c.RestartAfter = dur("HELPLINE_RESTART_AFTER", 24*time.Hour)
	c.DedupeTTL = dur("HELPLINE_DEDUPE_TTL", 24*time.Hour)
	c.ShutdownGrace = dur("HELPLINE_SHUTDOWN_GRACE", 15*time.Second)
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %v", errs)
	}
	return c, nil
}
