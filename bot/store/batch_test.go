package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline/helpline/bot/store"
)

// hook lets a test see and hold the commands a client sends.
type hook struct {
	// beforePipeline runs before a pipeline of commits is sent (not
	// before the commands that set up a new connection).
	beforePipeline func(n int)
	// beforeCall runs before a single command is sent.
	beforeCall func(cmd redis.Cmder)
}

func (h hook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h hook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.beforeCall != nil {
			h.beforeCall(cmd)
		}
		return next(ctx, cmd)
	}
}

func (h hook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if h.beforePipeline != nil && cmds[0].Name() == "evalsha" {
			h.beforePipeline(len(cmds))
		}
		return next(ctx, cmds)
	}
}

// TestCommitsAtOnceBatched commits for many people at once: the commits
// made while one is in flight go to Redis together, and each caller still
// gets its own outcome, as if it had called alone.
func TestCommitsAtOnceBatched(t *testing.T) {
	ctx := context.Background()
	st, rdb := newStore(t, store.Options{})
	var largest atomic.Int64
	rdb.AddHook(hook{beforePipeline: func(n int) {
		for {
			l := largest.Load()
			if int64(n) <= l || largest.CompareAndSwap(l, int64(n)) {
				return
			}
		}
	}})
	const people, steps = 48, 8
	var wg sync.WaitGroup
	errs := make(chan error, people)
	for p := range people {
		wg.Go(func() {
			pid := fmt.Sprintf("p%d", p)
			for v := range int64(steps) {
				msg := fmt.Sprintf("%s-m%d", pid, v) // marks name the person, as Keys.Mark does
				if got, err := st.Commit(ctx, commit(pid, msg, v, fmt.Sprintf("s%d", v+1))); got != store.Committed || err != nil {
					errs <- fmt.Errorf("%s commit %d: %v %v", pid, v, got, err)
					return
				}
				if got, err := st.Commit(ctx, commit(pid, msg, v+1, "again")); got != store.Duplicate || err != nil {
					errs <- fmt.Errorf("%s message %d again: %v %v, want Duplicate", pid, v, got, err)
					return
				}
				if got, err := st.Commit(ctx, commit(pid, pid+"-late", v, "stale")); got != store.Conflict || err != nil {
					errs <- fmt.Errorf("%s commit at version %d again: %v %v, want Conflict", pid, v, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for p := range people {
		rec, err := st.Load(ctx, fmt.Sprintf("p%d", p))
		if err != nil || rec.Version != steps || string(rec.Session) != fmt.Sprintf("s%d", steps) {
			t.Errorf("p%d: %+v %v, want version %d", p, rec, err, steps)
		}
	}
	if stats, err := st.Stats(ctx, now); err != nil || stats["in.web"] != people*steps {
		t.Errorf("counters %v %v, want in.web=%d", stats, err, people*steps)
	}
	if largest.Load() < 2 {
		t.Errorf("the largest pipeline held %d commands: commits made at once were not sent together", largest.Load())
	}
}

// TestCommitBatchReloadsScript sends a batch to a Redis that has lost its
// scripts, as after a restart or a failover: every commit of the batch is
// still made, once.
func TestCommitBatchReloadsScript(t *testing.T) {
	ctx := context.Background()
	st, rdb := newStore(t, store.Options{})
	admin := server.Client()
	defer admin.Close()
	hold, release := make(chan struct{}), make(chan struct{})
	var flushed, held atomic.Bool
	rdb.AddHook(hook{
		beforeCall: func(cmd redis.Cmder) {
			// Hold the first commit in flight, so that the others wait
			// and go as one batch.
			if cmd.Name() == "evalsha" && held.CompareAndSwap(false, true) {
				close(hold)
				<-release
			}
		},
		beforePipeline: func(int) {
			if flushed.CompareAndSwap(false, true) {
				if err := admin.ScriptFlush(ctx).Err(); err != nil {
					t.Error(err)
				}

			}
		},
	})
	var wg sync.WaitGroup
	outcomes := make([]store.Outcome, 8)
	errs := make([]error, len(outcomes))
	wg.Go(func() { outcomes[0], errs[0] = st.Commit(ctx, commit("p0", "p0-m", 0, "s")) })
	<-hold
	for i := 1; i < len(outcomes); i++ {
		wg.Go(func() {
			outcomes[i], errs[i] = st.Commit(ctx, commit(fmt.Sprintf("p%d", i), fmt.Sprintf("p%d-m", i), 0, "s"))
		})
	}
	waitFor(t, func() bool { return st.CommitsWaiting() == len(outcomes)-1 })
	close(release)
	wg.Wait()
	for i := range outcomes {
		if outcomes[i] != store.Committed || errs[i] != nil {
			t.Errorf("commit %d: %v %v", i, outcomes[i], errs[i])
		}
	}
	if !flushed.Load() {
		t.Fatal("the waiting commits were not sent as one pipeline")
	}
	if stats, err := st.Stats(ctx, now); err != nil || stats["in.web"] != int64(len(outcomes)) {
		t.Errorf("counters %v %v, want in.web=%d: each commit made once", stats, err, len(outcomes))
	}
}

// TestCommitWaitGivenUp gives up on a commit while it waits for a batch:
// its caller hears so at once, and the commits beside it are made.
func TestCommitWaitGivenUp(t *testing.T) {
	ctx := context.Background()
	st, rdb := newStore(t, store.Options{})
	hold, release := make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	rdb.AddHook(hook{beforeCall: func(cmd redis.Cmder) {
		if cmd.Name() == "evalsha" && held.CompareAndSwap(false, true) {
			close(hold)
			<-release
		}
	}})
	var wg sync.WaitGroup
	var first, beside store.Outcome
	var firstErr, besideErr, quitErr error
	wg.Go(func() { first, firstErr = st.Commit(ctx, commit("p0", "p0-m", 0, "s")) })
	<-hold
	quit, cancel := context.WithCancel(ctx)
	gaveUp := make(chan struct{})
	go func() {
		defer close(gaveUp)
		_, quitErr = st.Commit(quit, commit("p1", "p1-m", 0, "s"))
	}()
	wg.Go(func() { beside, besideErr = st.Commit(ctx, commit("p2", "p2-m", 0, "s")) })
	waitFor(t, func() bool { return st.CommitsWaiting() == 2 })
	cancel()
	select {
	case <-gaveUp:
	case <-time.After(10 * time.Second):
		t.Fatal("a commit given up still waits for its batch")
	}
	if !errors.Is(quitErr, context.Canceled) {
		t.Errorf("the commit given up: %v, want context.Canceled", quitErr)
	}
	close(release)
	wg.Wait()
	if first != store.Committed || firstErr != nil || beside != store.Committed || besideErr != nil {
		t.Errorf("the commits beside it: %v %v, %v %v", first, firstErr, beside, besideErr)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for range 1000 {
		if ok() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("timed out")
}
