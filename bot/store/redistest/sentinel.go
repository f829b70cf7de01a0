package redistest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// MasterName is the name the Sentinels of StartSentinel know their master
// by.
const MasterName = "helpline"

// Sentinel is a master, its replica and a group of Sentinels watching them,
// all started by this package.
type Sentinel struct {
	// Servers are the master and the replica, in the order they started;
	// which one is master changes at a failover.
	Servers []*Server
	// Sentinels watch the master and fail it over.
	Sentinels []*Server
}

// StartSentinel starts a master, a replica of it, and sentinels Sentinels
// (redis-sentinel, or redis-server --sentinel) that agree with a quorum of
// most of them. A master that stops answering is failed over within a few
// seconds: it is taken for down after one second. It waits until the
// replica is in sync and every Sentinel knows the replica and the other
// Sentinels.
func StartSentinel(sentinels int) (*Sentinel, error) {
	if sentinels < 1 {
		return nil, fmt.Errorf("%d sentinels", sentinels)
	}
	bin, flag, err := lookSentinel()
	if err != nil {
		return nil, err
	}
	g := &Sentinel{}
	master, err := Start("--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0")
	if err != nil {
		return nil, err
	}
	g.Servers = append(g.Servers, master)
	host, port, _ := strings.Cut(master.Addr, ":")
	replica, err := Start("--replicaof", host, port)
	if err != nil {
		g.Close()
		return nil, err
	}
	g.Servers = append(g.Servers, replica)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := until(ctx, "the replica is in sync", func() error { return replica.inSync(ctx) }); err != nil {
		g.Close()
		return nil, err
	}
	for range sentinels {
		s, err := launch(bin, func(p int, dir string) ([]string, error) {
			// A Sentinel rewrites its configuration file: it lives in the
			// Sentinel's own folder.
			conf := filepath.Join(dir, "sentinel.conf")
			text := fmt.Sprintf(`port %d
bind 127.0.0.1
dir %s
logfile ""
sentinel monitor %s %s %s %d
sentinel down-after-milliseconds %s 1000
sentinel failover-timeout %s 4000
sentinel parallel-syncs %s 1
`, p, dir, MasterName, host, port, sentinels/2+1, MasterName, MasterName, MasterName)
			if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
				return nil, err
			}
			return append([]string{conf}, flag...), nil
		})
		if err != nil {
			g.Close()
			return nil, err
		}
		g.Sentinels = append(g.Sentinels, s)
	}
	if err := until(ctx, "the sentinels know each other and the replica", func() error {
		for i, s := range g.Sentinels {
			err := s.do(ctx, func(rdb *redis.Client) error {
				others, err := rdb.Do(ctx, "SENTINEL", "SENTINELS", MasterName).Slice()
				if err != nil {
					return err
				}
				if len(others) != sentinels-1 {
					return fmt.Errorf("it knows %d other sentinels", len(others))
				}
				replicas, err := rdb.Do(ctx, "SENTINEL", "REPLICAS", MasterName).Slice()
				if err != nil {
					return err
				}
				if len(replicas) != 1 {
					return fmt.Errorf("it knows %d replicas", len(replicas))
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("sentinel %d: %w", i, err)
			}
		}
		return nil
	}); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

// URL returns the group as the helpline's HELPLINE_REDIS_URL names one:
// redis://first-sentinel?master_name=...&addr=second-sentinel&addr=...
func (g *Sentinel) URL() string {
	q := url.Values{}
	q.Set("master_name", MasterName)
	for _, s := range g.Sentinels[1:] {
		q.Add("addr", s.Addr)
	}
	return "redis://" + g.Sentinels[0].Addr + "?" + q.Encode()
}

// Client returns a failover client of the group.
func (g *Sentinel) Client() *redis.Client {
	addrs := make([]string, len(g.Sentinels))
	for i, s := range g.Sentinels {
		addrs[i] = s.Addr
	}
	return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: MasterName, SentinelAddrs: addrs})
}

// Master returns the server every live Sentinel names as the master now.
func (g *Sentinel) Master(ctx context.Context) (*Server, error) {
	addr := ""
	for i, s := range g.Sentinels {
		if s.Killed() {
			continue
		}
		var got []string
		if err := s.do(ctx, func(rdb *redis.Client) (err error) {
			got, err = rdb.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterName).StringSlice()
			return err
		}); err != nil {
			return nil, fmt.Errorf("sentinel %d: %w", i, err)
		}
		if len(got) != 2 {
			return nil, fmt.Errorf("sentinel %d names no master", i)
		}
		a := got[0] + ":" + got[1]
		if addr != "" && a != addr {
			return nil, errors.New("the sentinels do not agree on the master")
		}
		addr = a
	}
	for _, s := range g.Servers {
		if s.Addr == addr {
			return s, nil
		}
	}
	return nil, fmt.Errorf("the sentinels name %q, a server this group did not start", addr)
}

// KillMaster kills the master with SIGKILL, as a crash would, and returns
// it.
func (g *Sentinel) KillMaster(ctx context.Context) (*Server, error) {
	m, err := g.Master(ctx)
	if err != nil {
		return nil, err
	}
	m.Kill()
	return m, nil
}

// WaitFailover waits until every live Sentinel names a live master that
// says it is one.
func (g *Sentinel) WaitFailover(ctx context.Context) error {
	return until(ctx, "the sentinels failed over", func() error {
		m, err := g.Master(ctx)
		if err != nil {
			return err
		}
		if m.Killed() {
			return errors.New("the sentinels still name the dead master")
		}
		return m.do(ctx, func(rdb *redis.Client) error {
			role, err := rdb.Do(ctx, "ROLE").Slice()
			if err != nil {
				return err
			}
			if len(role) == 0 || role[0] != "master" {
				return fmt.Errorf("the new master says it is %v", role)
			}
			return nil
		})
	})
}

// Close stops every server and Sentinel and removes their folders.
func (g *Sentinel) Close() {
	for _, s := range append(g.Sentinels, g.Servers...) {
		s.Close()
	}
}

// Logs returns the last lines every server and Sentinel logged, for a
// failing test.
func (g *Sentinel) Logs() string {
	var b strings.Builder
	for i, s := range g.Servers {
		fmt.Fprintf(&b, "--- server %d (%s)\n%s\n", i, s.Addr, s.Log())
	}
	for i, s := range g.Sentinels {
		fmt.Fprintf(&b, "--- sentinel %d (%s)\n%s\n", i, s.Addr, s.Log())
	}
	return b.String()
}

// lookSentinel finds the program that runs a Sentinel: redis-sentinel, or
// redis-server, which is the same program and turns Sentinel with
// --sentinel.
func lookSentinel() (bin string, flag []string, err error) {
	if bin, err := exec.LookPath("redis-sentinel"); err == nil {
		return bin, nil, nil
	}
	if bin, err := exec.LookPath("redis-server"); err == nil {
		return bin, []string{"--sentinel"}, nil
	}
	return "", nil, errors.New("redis-sentinel is not installed (apt-get install redis-server redis-sentinel): the Sentinel tests need a real one")
}
