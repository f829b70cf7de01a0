// Package streams bounds the long-lived event streams one holder may keep
// open: a page that opens streams in a loop, or a script that opens
// hundreds, would otherwise hold a goroutine and a connection each for as
// long as it likes.
package streams

import "sync"

// Limits counts the open streams per key in several spaces at once (a
// person, a console session, a network address), each with its own ceiling.
type Limits struct {
	mu   sync.Mutex
	max  []int
	open []map[string]int
}

// New makes limits for len(max) key spaces; max[i] is the ceiling of the
// i-th. A ceiling of zero or less means no limit.
func New(max ...int) *Limits {
	l := &Limits{max: max, open: make([]map[string]int, len(max))}
	for i := range l.open {
		l.open[i] = map[string]int{}
	}
	return l
}

// Open takes a stream for keys, one per space in the order New was given.
// It reports false, taking nothing, when any key is at its ceiling;
// otherwise the caller must call the returned release once, when the
// stream ends.
func (l *Limits) Open(keys ...string) (release func(), ok bool) {
	if len(keys) != len(l.max) {
		panic("streams: one key per space")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, k := range keys {
		if l.max[i] > 0 && l.open[i][k] >= l.max[i] {
			return nil, false
		}
	}
	for i, k := range keys {
		l.open[i][k]++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			for i, k := range keys {
				if l.open[i][k]--; l.open[i][k] <= 0 {
					delete(l.open[i], k)
				}
			}
		})
	}, true
}
