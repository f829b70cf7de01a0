package webchat

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter bounds how fast one token and one network address may send.
type limiter struct {
	mu       sync.Mutex
	perToken rate.Limit
	perIP    rate.Limit
	tokenB   int
	ipB      int
	tokens   map[string]*entry
	ips      map[string]*entry
}

type entry struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimiter(perTokenMin, perIPMin int) *limiter {
	return &limiter{
		perToken: rate.Limit(float64(perTokenMin) / 60), tokenB: perTokenMin,
		perIP: rate.Limit(float64(perIPMin) / 60), ipB: perIPMin,
		tokens: map[string]*entry{}, ips: map[string]*entry{},
	}
}

func (l *limiter) allow(token, ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	t := get(l.tokens, token, l.perToken, l.tokenB, now)
	i := get(l.ips, ip, l.perIP, l.ipB, now)
	return t.AllowN(now, 1) && i.AllowN(now, 1)
}

func get(m map[string]*entry, k string, r rate.Limit, b int, now time.Time) *rate.Limiter {
	e := m[k]
	if e == nil {
		e = &entry{l: rate.NewLimiter(r, b)}
		m[k] = e
	}
	e.seen = now
	return e.l
}

// sweep forgets limiters unused for ten minutes.
func (l *limiter) sweep(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			l.mu.Lock()
			for _, m := range []map[string]*entry{l.tokens, l.ips} {
				for k, e := range m {
					if now.Sub(e.seen) > 10*time.Minute {
						delete(m, k)
					}
				}
			}
			l.mu.Unlock()
		}
	}
}
