package redistest_test

import (
	"context"
	"testing"
	"time"

	"github.com/helpline/helpline/bot/store/redistest"
)

// TestClusterFailsOver starts three masters with a replica each, writes a
// key that every replica acknowledged (WAIT), kills the key's master and
// reads the key back from the promoted replica.
func TestClusterFailsOver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := redistest.StartCluster(3, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if len(c.Nodes) != 6 {
		t.Fatalf("%d nodes", len(c.Nodes))
	}
	rdb := c.Client()
	defer rdb.Close()
	master, err := c.MasterOf(ctx, "{p}k")
	if err != nil {
		t.Fatal(err)
	}
	node, err := rdb.MasterForKey(ctx, "{p}k")
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Set(ctx, "{p}k", "kept", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := node.Wait(ctx, 1, 5*time.Second).Result(); err != nil || n != 1 {
		t.Fatalf("wait for the replica: %d %v", n, err)
	}
	killed, err := c.KillMaster(ctx, "{p}k")
	if err != nil || killed != master || !killed.Killed() {
		t.Fatalf("killed %v, want the master of the key %v: %v", killed, master, err)
	}
	start := time.Now()
	if err := c.WaitFailover(ctx); err != nil {
		t.Fatalf("%v\n%s", err, c.Logs())
	}
	t.Logf("failed over in %v", time.Since(start).Round(time.Millisecond))
	now, err := c.MasterOf(ctx, "{p}k")
	if err != nil || now == master || now.Killed() {
		t.Fatalf("the key is served by %v (dead: %v): %v", now, master, err)
	}
	if v, err := rdb.Get(ctx, "{p}k").Result(); err != nil || v != "kept" {
		t.Fatalf("after failover: %q %v", v, err)
	}
}

// TestSentinelFailsOver starts a master, a replica and three Sentinels,
// kills the master, and writes through the failover client to the
// promoted replica.
func TestSentinelFailsOver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	g, err := redistest.StartSentinel(3)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	rdb := g.Client()
	defer rdb.Close()
	if err := rdb.Set(ctx, "k", "kept", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := rdb.Wait(ctx, 1, 5*time.Second).Result(); err != nil || n != 1 {
		t.Fatalf("wait for the replica: %d %v", n, err)
	}
	old, err := g.KillMaster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := g.WaitFailover(ctx); err != nil {
		t.Fatalf("%v\n%s", err, g.Logs())
	}
	t.Logf("failed over in %v", time.Since(start).Round(time.Millisecond))
	if m, err := g.Master(ctx); err != nil || m == old {
		t.Fatalf("master %v: %v", m, err)
	}
	// The client finds the new master by itself.
	for deadline := time.Now().Add(20 * time.Second); ; {
		v, err := rdb.Get(ctx, "k").Result()
		if err == nil && v == "kept" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after failover: %q %v", v, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := rdb.Set(ctx, "k2", "new", 0).Err(); err != nil {
		t.Fatal(err)
	}
}
