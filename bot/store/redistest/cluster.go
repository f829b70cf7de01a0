package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of redis-server nodes this package started:
// masters that share the 16384 hash slots, each with its replicas.
type Cluster struct {
	// Nodes are every node, masters first in slot order, then the replicas
	// of the first master, of the second, and so on. Roles change at a
	// failover; the order does not.
	Nodes []*Server
}

// clusterTimeout is the cluster's node timeout: a master that does not
// answer for this long is failed over.
const clusterTimeout = 1000 * time.Millisecond

// StartCluster starts a cluster of masters masters with replicas replicas
// each, joins it with CLUSTER commands (no redis-cli is needed), and waits
// until every node reports cluster_state:ok and every replica is in sync.
// A master that dies is failed over after about a second and a half. A
// failover needs most masters alive: three masters survive one.
func StartCluster(masters, replicas int) (*Cluster, error) {
	if masters < 1 || replicas < 0 {
		return nil, fmt.Errorf("a cluster of %d masters with %d replicas each", masters, replicas)
	}
	c := &Cluster{}
	for range masters * (1 + replicas) {
		s, err := Start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.Itoa(int(clusterTimeout/time.Millisecond)),
			// A replica may take over however long ago it last heard its
			// master: in a test it was in sync a moment before.
			"--cluster-replica-validity-factor", "0",
			"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
			// A test may stall a node with DEBUG SLEEP.
			"--enable-debug-command", "local")
		if err != nil {
			c.Close()
			return nil, err
		}
		c.Nodes = append(c.Nodes, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.join(ctx, masters, replicas); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// join assigns the slots, introduces the nodes and makes the replicas.
func (c *Cluster) join(ctx context.Context, masters, replicas int) error {
	ids := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		err := n.do(ctx, func(rdb *redis.Client) error {
			id, err := rdb.Do(ctx, "CLUSTER", "MYID").Text()
			ids[i] = id
			if err != nil {
				return err
			}
			if i < masters {
				lo, hi := i*16384/masters, (i+1)*16384/masters-1
				if err := rdb.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
					return err
				}
			}
			// Distinct epochs from the start spare the cluster settling
			// their collisions.
			return rdb.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err()
		})
		if err != nil {
			return fmt.Errorf("cluster node %d: %w", i, err)
		}
	}
	host, port, _ := strings.Cut(c.Nodes[0].Addr, ":")
	for i, n := range c.Nodes[1:] {
		if err := n.do(ctx, func(rdb *redis.Client) error { return rdb.Do(ctx, "CLUSTER", "MEET", host, port).Err() }); err != nil {
			return fmt.Errorf("cluster node %d meets node 0: %w", i+1, err)
		}
	}
	// Every node must know every other before a replica can name its
	// master.
	if err := c.until(ctx, "every node knows every other", func() error {
		for i, n := range c.Nodes {
			nodes, err := n.clusterNodes(ctx)
			if err != nil {
				return err
			}
			if len(nodes) != len(c.Nodes) {
				return fmt.Errorf("node %d knows %d nodes", i, len(nodes))
			}
			for _, v := range nodes {
				if v.has("handshake") || v.has("noaddr") {
					return fmt.Errorf("node %d still greets %s", i, v.id)
				}
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for m := range masters {
		for r := range replicas {
			i := masters + m*replicas + r
			if err := c.Nodes[i].do(ctx, func(rdb *redis.Client) error {
				return rdb.Do(ctx, "CLUSTER", "REPLICATE", ids[m]).Err()
			}); err != nil {
				return fmt.Errorf("cluster node %d replicates node %d: %w", i, m, err)
			}
		}
	}
	return c.until(ctx, "the cluster is ready", func() error {
		for i, n := range c.Nodes {
			if err := n.clusterOK(ctx); err != nil {
				return fmt.Errorf("node %d: %w", i, err)
			}
			// A master votes only for a replica it knows as one of the
			// failed master's.
			nodes, err := n.clusterNodes(ctx)
			if err != nil {
				return err
			}
			for m := range masters {
				for r := range replicas {
					id := ids[masters+m*replicas+r]
					if j := slices.IndexFunc(nodes, func(v clusterNode) bool { return v.id == id }); j < 0 || nodes[j].master != ids[m] {
						return fmt.Errorf("node %d does not know node %d as a replica of node %d yet", i, masters+m*replicas+r, m)
					}
				}
			}
			if i >= masters {
				if err := n.inSync(ctx); err != nil {
					return fmt.Errorf("node %d: %w", i, err)
				}
			}
		}
		return nil
	})
}

// Addrs returns the address of every node.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr
	}
	return out
}

// URL returns the cluster as the helpline's HELPLINE_REDIS_URL names one:
// redis://first-node?addr=second-node&addr=..., every node a seed.
func (c *Cluster) URL() string {
	q := url.Values{}
	for _, a := range c.Addrs()[1:] {
		q.Add("addr", a)
	}
	return "redis://" + c.Nodes[0].Addr + "?" + q.Encode()
}

// Client returns a cluster client seeded with every node. It reads the
// cluster's slot map every half second: go-redis learns of a failover from
// a MOVED answer or that reload, and a dead master answers nothing.
func (c *Cluster) Client() *redis.ClusterClient {
	return redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), ClusterStateReloadInterval: 500 * time.Millisecond})
}

// MasterOf returns the node that serves key now, as a live node sees it.
func (c *Cluster) MasterOf(ctx context.Context, key string) (*Server, error) {
	for _, n := range c.Nodes {
		if n.Killed() {
			continue
		}
		var slot int64
		if err := n.do(ctx, func(rdb *redis.Client) (err error) {
			slot, err = rdb.ClusterKeySlot(ctx, key).Result()
			return err
		}); err != nil {
			return nil, err
		}
		ranges, err := n.slotMasters(ctx)
		if err != nil {
			return nil, err
		}
		addr := ""
		for _, r := range ranges {
			if r.lo <= slot && slot <= r.hi {
				addr = r.master
			}
		}
		if addr == "" {
			return nil, fmt.Errorf("no node serves slot %d", slot)
		}
		for _, m := range c.Nodes {
			if m.Addr == addr {
				return m, nil
			}
		}
		return nil, fmt.Errorf("slot served by %s, a node this cluster did not start", addr)
	}
	return nil, errors.New("no node is alive")
}

// KillMaster kills the master that serves key with SIGKILL, as a crash
// would, and returns it.
func (c *Cluster) KillMaster(ctx context.Context, key string) (*Server, error) {
	m, err := c.MasterOf(ctx, key)
	if err != nil {
		return nil, err
	}
	m.Kill()
	return m, nil
}

// WaitFailover waits until the cluster serves every slot again after a
// master died: each live node reports cluster_state:ok, and every slot has
// a live master, one of the dead master's replicas promoted.
func (c *Cluster) WaitFailover(ctx context.Context) error {
	return c.until(ctx, "the cluster failed over", func() error {
		for i, n := range c.Nodes {
			if n.Killed() {
				continue
			}
			if err := n.clusterOK(ctx); err != nil {
				return fmt.Errorf("node %d: %w", i, err)
			}
			ranges, err := n.slotMasters(ctx)
			if err != nil {
				return fmt.Errorf("node %d: %w", i, err)
			}
			var covered int64
			for _, r := range ranges {
				j := slices.IndexFunc(c.Nodes, func(m *Server) bool { return m.Addr == r.master })
				if j < 0 || c.Nodes[j].Killed() {
					return fmt.Errorf("node %d sees slots %d-%d on a dead master", i, r.lo, r.hi)
				}
				covered += r.hi - r.lo + 1
			}
			if covered != 16384 {
				return fmt.Errorf("node %d sees %d slots served", i, covered)
			}
		}
		return nil
	})
}

// Close stops every node and removes their folders.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		n.Close()
	}
}

// Logs returns the last lines every node logged, for a failing test.
func (c *Cluster) Logs() string {
	var b strings.Builder
	for i, n := range c.Nodes {
		fmt.Fprintf(&b, "--- node %d (%s)\n%s\n", i, n.Addr, n.Log())
	}
	return b.String()
}

// until polls ok until it returns nil or ctx ends, and then reports what
// was still missing.
func (c *Cluster) until(ctx context.Context, what string, ok func() error) error {
	return until(ctx, what, ok)
}

func until(ctx context.Context, what string, ok func() error) error {
	for {
		err := ok()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting until %s: %w", what, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// do runs f with a client of the server alone.
func (s *Server) do(ctx context.Context, f func(*redis.Client) error) error {
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second})
	defer rdb.Close()
	return f(rdb)
}

// clusterOK reports whether the node sees its cluster as serving.
func (s *Server) clusterOK(ctx context.Context) error {
	return s.do(ctx, func(rdb *redis.Client) error {
		info, err := rdb.ClusterInfo(ctx).Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return errors.New("cluster_state is not ok")
		}
		return nil
	})
}

// inSync reports whether a replica is linked to its master and done with
// the first copy.
func (s *Server) inSync(ctx context.Context) error {
	return s.do(ctx, func(rdb *redis.Client) error {
		info, err := rdb.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "master_link_status:up") || !strings.Contains(info, "master_sync_in_progress:0") {
			return errors.New("the replica is not in sync")
		}
		return nil
	})
}

// slotRange is a range of slots and the address of the master that serves
// them.
type slotRange struct {
	lo, hi int64
	master string
}

// slotMasters returns the slot ranges and their masters as the node sees
// them (CLUSTER SHARDS).
func (s *Server) slotMasters(ctx context.Context) ([]slotRange, error) {
	var shards []redis.ClusterShard
	if err := s.do(ctx, func(rdb *redis.Client) (err error) {
		shards, err = rdb.ClusterShards(ctx).Result()
		return err
	}); err != nil {
		return nil, err
	}
	var out []slotRange
	for _, sh := range shards {
		master := ""
		for _, n := range sh.Nodes {
			// A failed master may still be listed beside the replica that
			// took its place.
			if n.Role == "master" && (master == "" || n.Health == "online") {
				master = net.JoinHostPort(n.IP, strconv.FormatInt(n.Port, 10))
			}
		}
		for _, r := range sh.Slots {
			out = append(out, slotRange{lo: r.Start, hi: r.End, master: master})
		}
	}
	return out, nil
}

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	id, addr, master string
	flags            []string
}

func (n clusterNode) has(flag string) bool { return slices.Contains(n.flags, flag) }

func (s *Server) clusterNodes(ctx context.Context) ([]clusterNode, error) {
	var text string
	err := s.do(ctx, func(rdb *redis.Client) (err error) {
		text, err = rdb.ClusterNodes(ctx).Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []clusterNode
	for line := range strings.SplitSeq(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		out = append(out, clusterNode{id: f[0], addr: f[1], flags: strings.Split(f[2], ","), master: f[3]})
	}
	return out, nil
}
