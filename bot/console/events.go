package console

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// Run passes the store's console notes to the open event streams of this
// replica until ctx ends.
func (c *Console) Run(ctx context.Context) {
	notes, stop := c.st.ConsoleNotes(ctx)
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case n, ok := <-notes:
			if !ok {
				return
			}
			c.broadcast(n)
		}
	}
}

// Close ends every open event stream, so that a shutdown does not wait for
// consoles that never hang up; they reconnect by themselves.
func (c *Console) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ch := range c.streams {
		close(ch)
		delete(c.streams, ch)
	}
}

func (c *Console) broadcast(note string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ch := range c.streams {
		select {
		case ch <- note:
		default: // a slow console misses a note and catches up on the next
		}
	}
}

// events streams "queue" and "case" events (Server-Sent Events): the page
// fetches what changed. The notes name case codes only. The stream ends
// when its login does: at logout or when the account is disabled (a note
// says so at once, on every replica), and a ping checks the login again.
func (c *Console) events(w http.ResponseWriter, r *http.Request, u *user) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	login := hashToken(u.token)
	release, ok := c.open.Open(login, clientIP(r))
	if !ok {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "too many open streams", http.StatusTooManyRequests)
		return
	}
	defer release()
	ch := make(chan string, 16)
	c.mu.Lock()
	c.streams[ch] = struct{}{}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.streams, ch)
		c.mu.Unlock()
	}()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("retry: 2000\n\n"))
	fl.Flush()
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case n, ok := <-ch:
			if !ok {
				return
			}
			event, data, _ := strings.Cut(n, " ")
			switch {
			case event == "logout" && data == login, event == "disabled" && data == u.Name:
				return
			case event == "logout", event == "disabled":
				continue
			}
			if data == "" {
				data = event // an event with no data is never dispatched
			}
			w.Write([]byte("event: " + event + "\ndata: " + data + "\n\n"))
		case <-ping.C:
			if now, err := c.session(r); err == nil && now == nil {
				return // the login ended while no note said so
			}
			c.st.Seen(r.Context(), u.Name, c.now())
			w.Write([]byte(": ping\n\n"))
		}
		fl.Flush()
	}
}
