package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// chaosRedis is a redis-server that the chaos run stops, kills and pauses.
// It keeps an append-only file synced on every write, in its own folder,
// so that a restart, even after kill -9, keeps every write it confirmed.
type chaosRedis struct {
	addr string
	dir  string
	cmd  *exec.Cmd
}

func startChaosRedis(dir string) (*chaosRedis, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := &chaosRedis{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: filepath.Join(dir, "redis")}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, err
	}
	return r, r.start()
}

func (r *chaosRedis) start() error {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return errors.New("redis-server is not installed: the chaos run needs a real Redis")
	}
	_, port, _ := net.SplitHostPort(r.addr)
	r.cmd = exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--dir", r.dir, "--save", "",
		"--appendonly", "yes", "--appendfsync", "always", "--logfile", "redis.log")
	dieWithParent(r.cmd)
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.addr, MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
	}
	return errors.New("redis-server did not answer")
}

// shutdown stops Redis as an operator does (SHUTDOWN), waits for it to go.
func (r *chaosRedis) shutdown() {
	c := redis.NewClient(&redis.Options{Addr: r.addr, MaxRetries: -1})
	c.Do(context.Background(), "SHUTDOWN")
	c.Close()
	r.cmd.Wait()
}

// kill kills Redis with SIGKILL.
func (r *chaosRedis) kill() {
	r.cmd.Process.Kill()
	r.cmd.Wait()
}

// pause stops the Redis process for d (SIGSTOP, then SIGCONT), as a
// machine that stalls.
func (r *chaosRedis) pause(d time.Duration) {
	r.cmd.Process.Signal(syscall.SIGSTOP)
	time.Sleep(d)
	r.cmd.Process.Signal(syscall.SIGCONT)
}

func (r *chaosRedis) close() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Signal(syscall.SIGCONT)
		r.kill()
	}
}
