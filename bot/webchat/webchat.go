// Package webchat is the anonymous web chat: a small page served by the
// binary, JSON in, Server-Sent Events out. A person is a random token that
// lives in the browser tab's sessionStorage: closing the tab forgets it.
package webchat

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/store"
	"github.com/helpline/helpline/bot/streams"
)

// Dispatcher is what the web chat needs of the dispatcher.
type Dispatcher interface {
	Handle(ctx context.Context, in bot.Inbound) error
	PersonID(in bot.Inbound) string
}

// Words renders the page's own words in a language.
type Words interface {
	Languages() []string
	Text(lang, id string, vars map[string]string, count *int) (string, bool)
	Match(hints ...string) (string, bool)
}

// Greeter says what a first message gets, without a session: the page
// shows it before the person writes.
type Greeter interface {
	Greeting(hints ...string) bot.Reply
}

// Options tune the web chat.
type Options struct {
	// ExitURL is where Quick Exit goes: a neutral site.
	ExitURL string
	// PerToken and PerIP are the messages per minute one person, and one
	// network address, may send. Defaults 30 and 120.
	PerToken, PerIP int
	// StreamsPerToken and StreamsPerIP bound the event streams one person,
	// and one network address, may hold open. Defaults 4 and 200: many
	// phones share one address behind a mobile carrier's NAT.
	StreamsPerToken, StreamsPerIP int
}

// validToken is the form of a token the page makes: 16 to 64 characters of
// base64url.
var validToken = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// validID is the form of a message ID the page makes.
var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// validEntry is the form of a Redis stream entry ID, as the page echoes it.
var validEntry = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

// maxBody bounds a request body.
const maxBody = 8 << 10

// maxText bounds a message, in bytes.
const maxText = 4000

// Chat is the web chat channel: its HTTP handlers and its sender.
type Chat struct {
	d       Dispatcher
	greeter Greeter
	box     Box
	keys    *secret.Keys
	words   Words
	log     *slog.Logger
	opts    Options
	hub     *hub
	limiter *limiter
	streams *streams.Limits
	closing chan struct{}
	once    sync.Once
}

// Box is the store's side of the web chat. What it keeps of a reply is
// sealed with the person's key: the chat seals before Deliver and opens
// what Mailbox returns.
type Box interface {
	Deliver(ctx context.Context, pid string, payload []byte, final bool) error
	Mailbox(ctx context.Context, pid, after string) ([]store.MailItem, error)
	Notes(ctx context.Context) (<-chan string, func())
	Ticket(ctx context.Context, pid string) (string, error)
	Redeem(ctx context.Context, ticket string) (pid string, ok bool, err error)
}

// New makes the web chat.
func New(d Dispatcher, g Greeter, box Box, keys *secret.Keys, words Words, log *slog.Logger, opts Options) *Chat {
	if opts.ExitURL == "" {
		opts.ExitURL = "https://www.google.com/search?q=weather"
	}
	if opts.PerToken <= 0 {
		opts.PerToken = 30
	}
	if opts.PerIP <= 0 {
		opts.PerIP = 120
	}
	if opts.StreamsPerToken <= 0 {
		opts.StreamsPerToken = 4
	}
	if opts.StreamsPerIP <= 0 {
		opts.StreamsPerIP = 200
	}
	return &Chat{
		d: d, greeter: g, box: box, keys: keys, words: words, log: log, opts: opts, hub: newHub(),
		limiter: newLimiter(opts.PerToken, opts.PerIP),
		streams: streams.New(opts.StreamsPerToken, opts.StreamsPerIP),
		closing: make(chan struct{}),
	}
}

// Close ends every open event stream, so that a server shutdown does not
// wait for pages that never hang up. The pages reconnect by themselves.
func (c *Chat) Close() { c.once.Do(func() { close(c.closing) }) }

// Routes adds the web chat's routes to mux.
func (c *Chat) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", c.page)
	mux.HandleFunc("POST /chat/send", c.send)
	mux.HandleFunc("POST /chat/ticket", c.ticket)
	mux.HandleFunc("GET /chat/words", c.wordsJSON)
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
			if final != nil {
				var err error
				if final, err = c.keys.Open(final, pid); err != nil {
					c.log.Warn("a final web reply could not be opened", "err", err)
					continue
				}
			}
			c.hub.notify(pid, final)
		}
	}
}

// Send delivers a reply to the person's page through their mailbox.
func (c *Chat) Send(ctx context.Context, out bot.Outgoing) error {
	b, err := json.Marshal(wire(out.Reply))
	if err != nil {
		return errors.Join(bot.ErrPermanent, err)
	}
	return c.box.Deliver(ctx, out.PID, c.keys.Seal(b, out.PID), out.Final)
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

type ticketRequest struct {
	Token string `json:"token"`
}

// ticket gives the page a one-time ticket for its event stream. The token
// comes in the body, as for send, so it never appears in a URL.
func (c *Chat) ticket(w http.ResponseWriter, r *http.Request) {
	var req ticketRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil || !validToken.MatchString(req.Token) {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if !c.limiter.allow(req.Token, clientIP(r)) {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	t, err := c.box.Ticket(r.Context(), c.d.PersonID(bot.Inbound{Channel: bot.Web, Address: req.Token}))
	if err != nil {
		c.log.Error("web stream ticket not made", "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]string{"ticket": t})
}

// events streams the person's replies as Server-Sent Events, opened with a
// ticket from /chat/ticket. A reconnecting page says which reply it saw
// last (Last-Event-ID, or after= when it opens a new stream itself) and gets
// what it missed.
func (c *Chat) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ticket, last := q.Get("ticket"), q.Get("after")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		last = id
	}
	if !validToken.MatchString(ticket) || (last != "" && !validEntry.MatchString(last)) {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	pid, ok, err := c.box.Redeem(r.Context(), ticket)
	if err != nil {
		c.log.Error("web stream ticket not read", "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	if !ok {
		// Spent or expired: the page asks for a new ticket.
		http.Error(w, "ticket spent or expired", http.StatusForbidden)
		return
	}
	release, ok := c.streams.Open(pid, clientIP(r))
	if !ok {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "too many open streams", http.StatusTooManyRequests)
		return
	}
	defer release()
	notes := c.hub.add(pid)
	defer c.hub.remove(pid, notes)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fl.Flush()

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
		last = it.ID
		b, err := c.keys.Open(it.Payload, pid)
		if err != nil {
			c.log.Warn("a web reply could not be opened", "err", err)
			continue
		}
		writeEvent(w, it.ID, b)
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

// Dial opens a person's event stream on the web chat at base as the page
// does: a ticket for the token, then the stream after the entry ID after
// ("" for all). It is for tests and tools.
func Dial(ctx context.Context, base, token, after string) (*http.Response, error) {
	body, _ := json.Marshal(ticketRequest{Token: token})
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/chat/ticket", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	var t struct{ Ticket string }
	err = json.NewDecoder(resp.Body).Decode(&t)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil {
		return nil, fmt.Errorf("ticket: %s", resp.Status)
	}
	u := base + "/chat/events?ticket=" + url.QueryEscape(t.Ticket)
	if after != "" {
		u += "&after=" + url.QueryEscape(after)
	}
	req, err = http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}
