package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/helpline/helpline/bot/secret"
)

// clusterReload is how often a Cluster client reads the slot map again.
const clusterReload = time.Second

// openRedis connects to HELPLINE_REDIS_URL: a single Redis
// (redis://host:6379/0), a Sentinel set (redis://host:26379?master_name=m
// &addr=host2:26379) or a Cluster (redis://host:7000?addr=host2:7000). With
// no URL it starts an in-process Redis that keeps nothing: the demo mode.
func openRedis(rawURL string, pool int, log *slog.Logger) (redis.UniversalClient, func(), error) {
	if rawURL == "" {
		return embeddedRedis(log)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("HELPLINE_REDIS_URL: %w", err)
	}
	redis.SetLogger(clientLog{log})
	q := u.Query()
	var rdb redis.UniversalClient
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, nil, fmt.Errorf("HELPLINE_REDIS_URL: %w", err)
		}
		o.PoolSize = pool
		rdb = redis.NewFailoverClient(o)
	case q.Has("addr"):
		o, err := redis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, nil, fmt.Errorf("HELPLINE_REDIS_URL: %w", err)
		}
		o.PoolSize = pool
		// go-redis learns that a slot moved from a MOVED answer, and
		// otherwise only when it reads the slot map again. A master that
		// died answers nothing, so until that reading every command for
		// its slots goes to it and fails, long after a replica took over:
		// by default a minute of silence for the people in those slots.
		// Read the map every second instead (one CLUSTER SLOTS, in the
		// background, when there is traffic).
		o.ClusterStateReloadInterval = clusterReload
		rdb = redis.NewClusterClient(o)
	default:
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, nil, fmt.Errorf("HELPLINE_REDIS_URL: %w", err)
		}
		o.PoolSize = pool
		rdb = redis.NewClient(o)
	}
	return rdb, func() { rdb.Close() }, nil
}

// clientLog puts what go-redis itself logs (a dial that failed, a
// connection dropped) in the helpline's log at debug level, rather than as
// lines of its own on stderr: in an outage it says every few milliseconds
// what the helpline's own log says once.
type clientLog struct{ log *slog.Logger }

func (l clientLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client", "said", fmt.Sprintf(format, v...))
}

// embeddedRedis runs miniredis in this process, its clock following the
// wall clock so that keys expire as they would in Redis.
func embeddedRedis(log *slog.Logger) (redis.UniversalClient, func(), error) {
	m := miniredis.NewMiniRedis()
	password := base64.RawURLEncoding.EncodeToString(secret.Random())
	m.RequireAuth(password) // nothing else on this machine may read it
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, nil, fmt.Errorf("start the embedded Redis: %w", err)
	}
	log.Warn("no HELPLINE_REDIS_URL: using an embedded in-memory Redis; everything is lost when the process stops")
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				m.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), Password: password})
	return rdb, func() { close(stop); rdb.Close(); m.Close() }, nil
}
