// Package telegramtest is a fake Telegram Bot API for tests and the load
// driver: an httptest server on 127.0.0.1 that records every call, answers
// like Telegram, fails on request, and queues updates for getUpdates.
package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Call is one Bot API call the fake received.
type Call struct {
	Method string
	// Params are the call's parameters as sent: plain values as they are,
	// objects and lists as JSON.
	Params map[string]string
	// InResponse is true for a call made in a webhook's response.
	InResponse bool
	// MessageID is the ID of the message a successful sendMessage made.
	MessageID int
	// OK is true when the fake answered the call with success.
	OK bool
	At time.Time
}

// Chat returns the call's chat_id, 0 if none.
func (c Call) Chat() int64 {
	n, _ := strconv.ParseInt(c.Params["chat_id"], 10, 64)
	return n
}

// Fake is the fake Bot API.
type Fake struct {
	*httptest.Server
	// Token is the bot token the fake answers to.
	Token string
	// OnCall, when set before the first call, sees every call as it
	// comes, on the request's goroutine.
	OnCall func(Call)
	// Quiet keeps no calls: for the load driver, which only needs OnCall.
	Quiet bool

	mu      sync.Mutex
	calls   []Call
	changed chan struct{} // closed and replaced on every change
	fail    map[string][]Failure
	nextMsg int
	nextUpd int64
	queue   []queued
	offset  int64
	webhook map[string]string
	holds   map[string]chan struct{}
}

// Failure is an answer the fake gives instead of success.
type Failure struct {
	Status     int
	RetryAfter int // seconds, for a 429
	// Description replaces the answer's description, which otherwise
	// names a chat, as some of Telegram's do.
	Description string
}

type queued struct {
	id  int64
	raw json.RawMessage
}

// New starts a fake for the bot token "123456:TEST".
func New() *Fake {
	f := &Fake{Token: "123456:TEST", changed: make(chan struct{}), fail: map[string][]Failure{}, nextMsg: 1000, nextUpd: 500000}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// Fail makes the next calls of method fail, one failure each, in order.
func (f *Fake) Fail(method string, failures ...Failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = append(f.fail[method], failures...)
}

// Hold makes the calls of method wait, unanswered and not yet recorded,
// until release is called; release may be called more than once.
func (f *Fake) Hold(method string) (release func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	if f.holds == nil {
		f.holds = map[string]chan struct{}{}
	}
	f.holds[method] = ch
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			delete(f.holds, method)
			f.mu.Unlock()
			close(ch)
		})
	}
}

// Calls returns the calls so far, oldest first.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// Methods returns the methods of the calls so far, oldest first.
func (f *Fake) Methods() []string {
	var out []string
	for _, c := range f.Calls() {
		out = append(out, c.Method)
	}
	return out
}

// Wait waits until done holds for the calls so far, for up to timeout, and
// reports whether it did. done may call the fake's other methods.
func (f *Fake) Wait(timeout time.Duration, done func([]Call) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		calls, ch := f.calls[:len(f.calls):len(f.calls)], f.changed
		f.mu.Unlock()
		if done(calls) {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

// notify wakes every Wait; f.mu is held.
func (f *Fake) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Watch sets OnCall and Quiet while calls may already come: from another
// process, which gives the race detector no order between setting the
// fields and reading them.
func (f *Fake) Watch(onCall func(Call), quiet bool) {
	f.mu.Lock()
	f.OnCall, f.Quiet = onCall, quiet
	f.mu.Unlock()
}

func (f *Fake) record(c Call) {
	f.mu.Lock()
	onCall, quiet := f.OnCall, f.Quiet
	f.mu.Unlock()
	if onCall != nil {
		onCall(c)
	}
	if quiet {
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.notify()
	f.mu.Unlock()
}

// MessageID hands out the next message ID, as Telegram numbers the
// messages of both sides of a chat.
func (f *Fake) MessageID() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextMsg++
	return f.nextMsg
}

// UpdateID hands out the next update ID.
func (f *Fake) UpdateID() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextUpd++
	return f.nextUpd
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	prefix := "/bot" + f.Token + "/"
	if !strings.HasPrefix(r.URL.Path, prefix) {
		answer(w, http.StatusUnauthorized, nil, 0)
		return
	}
	method := strings.TrimPrefix(r.URL.Path, prefix)
	params, err := readParams(r)
	if err != nil {
		answer(w, http.StatusBadRequest, nil, 0)
		return
	}
	f.mu.Lock()
	hold := f.holds[method]
	f.mu.Unlock()
	if hold != nil {
		<-hold
	}
	c := Call{Method: method, Params: params, At: time.Now()}
	f.mu.Lock()
	var fail *Failure
	if q := f.fail[method]; len(q) > 0 {
		fail, f.fail[method] = &q[0], q[1:]
	}
	f.mu.Unlock()
	if fail == nil && method == "sendMessage" {
		c.MessageID = f.MessageID()
	}
	c.OK = fail == nil
	f.record(c)
	if fail != nil {
		fail.answer(w)
		return
	}
	if method == "getUpdates" {
		f.getUpdates(w, r, params)
		return
	}
	answer(w, http.StatusOK, f.result(c), 0)
}

// result is what a successful call returns.
func (f *Fake) result(c Call) any {
	switch c.Method {
	case "sendMessage", "editMessageText":
		id := c.MessageID
		if c.Method == "editMessageText" {
			id, _ = strconv.Atoi(c.Params["message_id"])
		}
		return map[string]any{
			"message_id": id, "date": time.Now().Unix(), "text": c.Params["text"],
			"chat": map[string]any{"id": c.Chat(), "type": "private"},
		}
	case "getMe":
		return map[string]any{"id": 123456, "is_bot": true, "first_name": "Helpline", "username": "helpline_test_bot"}
	case "setWebhook":
		f.mu.Lock()
		f.webhook = c.Params
		f.mu.Unlock()
	case "deleteWebhook":
		f.mu.Lock()
		f.webhook = nil
		f.mu.Unlock()
	case "getWebhookInfo":
		f.mu.Lock()
		defer f.mu.Unlock()
		info := map[string]any{"url": f.webhook["url"], "pending_update_count": len(f.queue)}
		if n, err := strconv.Atoi(f.webhook["max_connections"]); err == nil {
			info["max_connections"] = n
		}
		var allowed []string
		if json.Unmarshal([]byte(f.webhook["allowed_updates"]), &allowed) == nil {
			info["allowed_updates"] = allowed
		}
		return info
	}
	return true
}

func answer(w http.ResponseWriter, status int, result any, retryAfter int) {
	if status != http.StatusOK {
		(&Failure{Status: status, RetryAfter: retryAfter}).answer(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

func (f *Failure) answer(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	body := map[string]any{"ok": false, "error_code": f.Status, "description": f.Description}
	if f.Description == "" {
		body["description"] = fmt.Sprintf("fake failure %d for chat 1111111", f.Status)
	}
	if f.RetryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": f.RetryAfter}
	}
	json.NewEncoder(w).Encode(body)
}

// readParams reads a call's parameters from a multipart form (as
// go-telegram/bot sends them), a JSON body, or a query string.
func readParams(r *http.Request) (map[string]string, error) {
	params := map[string]string{}
	body, err := io.ReadAll(r.Body)
	if err != nil || len(body) == 0 {
		return params, err // a method without parameters
	}
	ct, ctParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), ctParams["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return params, nil
			}
			if err != nil {
				return nil, err
			}
			b, err := io.ReadAll(p)
			if err != nil {
				return nil, err
			}
			params[p.FormName()] = string(b)
		}
	case "application/json":
		return jsonParams(bytes.NewReader(body))
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	for k := range form {
		params[k] = form.Get(k)
	}
	return params, nil
}

func jsonParams(r io.Reader) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, err
	}
	params := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
			params[k] = s // a string, unquoted
		} else {
			params[k] = string(v) // a number, an object or a list, as sent
		}
	}
	return params, nil
}

// Post delivers an update to a webhook as Telegram does, with the secret
// token, and records a call made in the response. It returns the status.
func (f *Fake) Post(url, secret string, update []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(update))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && len(bytes.TrimSpace(body)) > 0 {
		if params, err := jsonParams(bytes.NewReader(body)); err == nil && params["method"] != "" {
			m := params["method"]
			delete(params, "method")
			f.record(Call{Method: m, Params: params, InResponse: true, At: time.Now()})
		}
	}
	return resp.StatusCode, nil
}

// Queue adds an update for getUpdates.
func (f *Fake) Queue(update []byte) {
	var u struct {
		ID int64 `json:"update_id"`
	}
	json.Unmarshal(update, &u)
	f.mu.Lock()
	f.queue = append(f.queue, queued{u.ID, update})
	f.notify()
	f.mu.Unlock()
}

// ClearQueue drops the updates waiting for getUpdates, as for a bot that
// starts afresh.
func (f *Fake) ClearQueue() {
	f.mu.Lock()
	f.queue = nil
	f.mu.Unlock()
}

// Offset returns the last offset getUpdates was called with: every update
// below it is confirmed.
func (f *Fake) Offset() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.offset
}

// getUpdates answers a long poll: the queued updates from the offset on,
// waiting up to the poll's timeout (at most 2s) for one to come.
func (f *Fake) getUpdates(w http.ResponseWriter, r *http.Request, params map[string]string) {
	offset, _ := strconv.ParseInt(params["offset"], 10, 64)
	wait, _ := strconv.Atoi(params["timeout"])
	deadline := time.NewTimer(min(time.Duration(wait)*time.Second, 2*time.Second))
	defer deadline.Stop()
	for {
		f.mu.Lock()
		if offset > f.offset {
			f.offset = offset
		}
		var out []json.RawMessage
		kept := f.queue[:0]
		for _, q := range f.queue {
			if q.id >= offset {
				kept = append(kept, q)
				if len(out) < 100 {
					out = append(out, q.raw)
				}
			}
		}
		f.queue = kept
		ch := f.changed
		f.mu.Unlock()
		if len(out) > 0 {
			answer(w, http.StatusOK, out, 0)
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			answer(w, http.StatusOK, []json.RawMessage{}, 0)
			return
		case <-r.Context().Done():
			return
		}
	}
}
