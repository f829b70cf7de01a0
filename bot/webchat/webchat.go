// Package webchat is the anonymous web chat: a small page served by the
// binary, JSON in, Server-Sent Events out. A person is a random token that
// lives in the browser tab's sessionStorage: closing the tab forgets it.
package webchat

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/store"
)

// Dispatcher is what the web chat needs of the dispatcher.
type Dispatcher interface {
	Handle(ctx context.Context, in bot.Inbound) error
	PersonID(in bot.Inbound) string
}

// Words renders the page's own words in a language.
type Words interface {
	Text(lang, id string, vars map[string]string, count *int) (string, bool)
	Match(hints ...string) (string, bool)
}

// Options tune the web chat.
type Options struct {
	// ExitURL is where Quick Exit goes: a neutral site.
	ExitURL string
	// PerToken and PerIP are the messages per minute one person, and one
	// network address, may send. Defaults 30 and 120.
	PerToken, PerIP int
}

// validToken is the form of a token the page makes: 16 to 64 characters of
// base64url.
var validToken = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// validID is the form of a message ID the page makes.
var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// maxBody bounds a request body.
const maxBody = 8 << 10

// maxText bounds a message, in bytes.
const maxText = 4000

// Chat is the web chat channel: its HTTP handlers and its sender.
type Chat struct {
	d       Dispatcher
	box     Box
	words   Words
	log     *slog.Logger
	opts    Options
	hub     *hub
	limiter *limiter
	closing chan struct{}
	once    sync.Once
}

// Box is the store's side of the web chat.
type Box interface {
	Deliver(ctx context.Context, pid string, payload []byte, final bool) error
	Mailbox(ctx context.Context, pid, after string) ([]store.MailItem, error)
	Notes(ctx context.Context) (<-chan string, func())
}

// New makes the web chat.
func New(d Dispatcher, box Box, words Words, log *slog.Logger, opts Options) *Chat {
	if opts.ExitURL == "" {
		opts.ExitURL = "https://www.google.com/search?q=weather"
	}
	if opts.PerToken <= 0 {
		opts.PerToken = 30
	}
	if opts.PerIP <= 0 {
		opts.PerIP = 120
	}
	return &Chat{d: d, box: box, words: words, log: log, opts: opts, hub: newHub(), limiter: newLimiter(opts.PerToken, opts.PerIP), closing: make(chan struct{})}
}

// Close ends every open event stream, so that a server shutdown does not
// wait for pages that never hang up. The pages reconnect by themselves.
func (c *Chat) Close() { c.once.Do(func() { close(c.closing) }) }

// Routes adds the web chat's routes to mux.
func (c *Chat) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", c.page)
	mux.HandleFunc("POST /chat/send", c.send)
	mux.HandleFunc("GET /chat/events", c.events)
	mux.HandleFunc("GET /chat/app.js", asset("app.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /chat/app.css", asset("app.css", "text/css; charset=utf-8"))
}

// Run listens for replies for the pages this replica serves, until ctx ends.
func (c *Chat) Run(ctx context.Context) {
	notes, stop := c.box.Notes(ctx)
	defer stop()
	go c.limiter.sweep(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case n, ok := <-notes:
			if !ok {
				return
			}
			pid, final := store.ParseWebNote(n)
			c.hub.notify(pid, final)
		}
	}
}

// Send delivers a reply to the person's page through their mailbox.
func (c *Chat) Send(ctx context.Context, out bot.Outgoing) error {
	b, err := json.Marshal(out.Reply)
	if err != nil {
		return errors.Join(bot.ErrPermanent, err)
	}
	return c.box.Deliver(ctx, out.PID, b, out.Final)
}

type sendRequest struct {
	Token  string `json:"token"`
	ID     string `json:"id"`
	Text   string `json:"text"`
	Choice string `json:"choice"`
}

func (c *Chat) send(w http.ResponseWriter, r *http.Request) {
	var req sendRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if !validToken.MatchString(req.Token) || !validID.MatchString(req.ID) || len(req.Text) > maxText || len(req.Choice) > 200 || (req.Text == "" && req.Choice == "") {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if !c.limiter.allow(req.Token, clientIP(r)) {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "too many messages", http.StatusTooManyRequests)
		return
	}
	in := bot.Inbound{
		Channel: bot.Web, Address: req.Token, ID: req.ID, Text: req.Text, Choice: req.Choice,
		LangHints: []string{r.Header.Get("Accept-Language")},
	}
	if err := c.d.Handle(r.Context(), in); err != nil {
		c.log.Error("web message not handled", "pid", c.d.PersonID(in), "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// events streams the person's replies as Server-Sent Events. A reconnecting
// page sends Last-Event-ID and gets what it missed.
func (c *Chat) events(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if !validToken.MatchString(token) {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	pid := c.d.PersonID(bot.Inbound{Channel: bot.Web, Address: token})
	notes := c.hub.add(pid)
	defer c.hub.remove(pid, notes)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fl.Flush()

	last := r.Header.Get("Last-Event-ID")
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	for {
		var err error
		if last, err = c.flush(r.Context(), w, pid, last); err != nil {
			return
		}
		fl.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-c.closing:
			return
		case final := <-notes:
			if final != nil {
				// The person asked to be forgotten: the last reply ends the
				// stream, and the page starts afresh.
				writeEvent(w, "", append(append([]byte(`{"end":true,"r":`), final...), '}'))
				fl.Flush()
				return
			}
		case <-ping.C:
			w.Write([]byte(": ping\n\n"))
		}
	}
}

// flush writes the mailbox entries after last and returns the new last.
func (c *Chat) flush(ctx context.Context, w http.ResponseWriter, pid, last string) (string, error) {
	items, err := c.box.Mailbox(ctx, pid, last)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("web mailbox read failed", "pid", pid, "err", err)
		}
		return last, err
	}
	for _, it := range items {
		writeEvent(w, it.ID, it.Payload)
		last = it.ID
	}
	return last, nil
}

func writeEvent(w http.ResponseWriter, id string, data []byte) {
	if id != "" {
		w.Write([]byte("id: " + id + "\n"))
	}
	w.Write([]byte("data: "))
	w.Write(data)
	w.Write([]byte("\n\n"))
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// NewToken makes a token like the page does, for tests and tools.
func NewToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
