// Package redistest starts a real redis-server for tests, on a free port,
// keeping nothing on disk: one server (Start), a Redis Cluster of several
// masters with replicas (StartCluster), or a master and a replica watched
// by Sentinels (StartSentinel), with a way to kill a master and wait for
// its failover. Every process dies with the test process. A test run that
// cannot start them fails: a missing redis-server or redis-sentinel is an
// error, never a reason to skip.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server (or redis-sentinel) this package started.
type Server struct {
	Addr string
	cmd  *exec.Cmd
	dir  string
	log  *tail

	mu     sync.Mutex
	killed bool
}

// Start runs redis-server on a free loopback port with the extra arguments
// (for example "--cluster-enabled", "yes") and waits until it answers.
func Start(extra ...string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server is not installed (apt-get install redis-server): the tests need a real Redis")
	}
	return launch(bin, func(port int, dir string) ([]string, error) {
		args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", ""}
		return append(args, extra...), nil
	})
}

// launch runs bin with the arguments args makes for a free port and a
// folder of the server's own, and waits until it answers PING.
func launch(bin string, args func(port int, dir string) ([]string, error)) (*Server, error) {
	dir, err := os.MkdirTemp("", "redistest")
	if err != nil {
		return nil, err
	}
	name := filepath.Base(bin)
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		argv, err := args(port, dir)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		cmd := exec.Command(bin, argv...)
		dieWithParent(cmd)
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		log := &tail{}
		go log.drain(stdout)
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd, dir: dir, log: log}
		if s.wait() == nil {
			return s, nil
		}
		s.Kill()
	}
	os.RemoveAll(dir)
	return nil, fmt.Errorf("%s did not start", name)
}

// tail keeps the last lines a server logged, for a failing test to show.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (t *tail) drain(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		t.mu.Lock()
		if len(t.lines) >= 200 {
			t.lines = t.lines[1:]
		}
		t.lines = append(t.lines, sc.Text())
		t.mu.Unlock()
	}
}

// Log returns the last lines the server logged.
func (s *Server) Log() string {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return strings.Join(s.log.lines, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) wait() error {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("redis-server did not answer")
}

// Kill stops the server at once with SIGKILL, as a crash would, and waits
// for it to be gone; its folder stays until Close. Killing a server twice
// does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.killed {
		return
	}
	s.killed = true
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// Restart kills the server if it runs and starts it again on the same
// port, with the same arguments: what it held is gone unless those
// arguments keep it on disk.
func (s *Server) Restart() error {
	s.Kill()
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.cmd.Path, s.cmd.Args[1:]...)
	dieWithParent(cmd)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("restart %s: %w", filepath.Base(s.cmd.Path), err)
	}
	go s.log.drain(stdout)
	s.cmd, s.killed = cmd, false
	return s.wait()
}

// Killed reports whether Kill was called.
func (s *Server) Killed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.killed
}

// Close stops the server and removes its folder.
func (s *Server) Close() {
	s.Kill()
	os.RemoveAll(s.dir)
}

// Client returns a client of the server.
func (s *Server) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.Addr})
}

// Main runs a package's tests with one redis-server for all of them, kept
// in *srv, and exits with their result. A package's TestMain calls it.
func Main(m interface{ Run() int }, srv **Server) {
	s, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests need Redis:", err)
		os.Exit(1)
	}
	*srv = s
	code := m.Run()
	s.Close()
	os.Exit(code)
}

// CPU returns the CPU time, system and user, the Redis server behind rdb
// has used so far; zero when it does not answer. Benchmarks take the
// difference over a run.
func CPU(ctx context.Context, rdb redis.UniversalClient) time.Duration {
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0
	}
	var total float64
	for line := range strings.SplitSeq(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}
