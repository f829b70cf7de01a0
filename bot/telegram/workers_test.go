package telegram

import (
	"runtime"
	"testing"
	"time"
)

// TestWorkersAreKept runs functions one after another: the worker that ran
// the first waits for the next and runs them all, and stop ends it.
func TestWorkersAreKept(t *testing.T) {
	before := runtime.NumGoroutine()
	w := newWorkers()
	for i := range 50 {
		done := make(chan struct{})
		w.Go(func() { close(done) })
		<-done
		// The worker goes idle just after its function returns.
		for deadline := time.Now().Add(5 * time.Second); len(w.idle) != 1; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("after function %d: %d workers idle, want 1", i, len(w.idle))
			}
		}
	}
	w.stop()
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after stop: %d goroutines, %d before the workers", runtime.NumGoroutine(), before)
		}
	}
}

// BenchmarkWorkers runs a function that needs a deep stack on a kept
// worker, against a new goroutine each time.
func BenchmarkWorkers(b *testing.B) {
	deep := func() { recurse(200) }
	b.Run("kept", func(b *testing.B) {
		w := newWorkers()
		defer w.stop()
		done := make(chan struct{})
		for range b.N {
			w.Go(func() { deep(); done <- struct{}{} })
			<-done
		}
	})
	b.Run("new", func(b *testing.B) {
		done := make(chan struct{})
		for range b.N {
			go func() { deep(); done <- struct{}{} }()
			<-done
		}
	})
}

//go:noinline
func recurse(n int) int {
	var pad [16]int64
	pad[n%16] = int64(n)
	if n == 0 {
		return int(pad[0])
	}
	return recurse(n-1) + int(pad[n%16])
}
