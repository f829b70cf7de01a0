package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/store/redistest"
	"github.com/helpline/helpline/bot/webchat"
	"github.com/helpline/helpline/flows"
)

var redisServer *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &redisServer) }

// syncBuffer is a buffer several goroutines may write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is the binary running in this test process.
type server struct {
	url    string
	stdout *syncBuffer
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startServer calls run("serve") on a free port with env, waits for
// /healthz, and stops it when the test ends.
func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	s := spawnServer(env)
	s.await(t)
	return s
}

// spawnServer calls run("serve") on a free port with env and returns at
// once; await waits for it. Several servers start side by side so.
func spawnServer(env map[string]string) *server {
	env["HELPLINE_ADDR"] = "127.0.0.1:0"
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{logs: &syncBuffer{}, stdout: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, []string{"serve"}, getenv, strings.NewReader(""), s.stdout, s.logs) }()
	return s
}

// await waits until a spawned server answers /healthz, and stops it when
// the test ends.
func (s *server) await(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for s.url == "" {
		if time.Now().After(deadline) {
			s.cancel()
			t.Fatalf("server did not start; logs:\n%s", s.logs)
		}
		select {
		case err := <-s.done:
			t.Fatalf("run returned early: %v\n%s", err, s.logs)
		case <-time.After(20 * time.Millisecond):
		}
		if line := s.stdout.String(); strings.Contains(line, "web chat on ") {
			rest := strings.SplitN(line, "web chat on ", 2)[1]
			rest, _, _ = strings.Cut(rest, "\n")
			s.url = strings.TrimSuffix(strings.TrimSpace(rest), "/")
		}
	}
	if resp, err := http.Get(s.url + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	t.Cleanup(func() { s.stop(t) })
}

func (s *server) stop(t *testing.T) {
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("the server did not stop within 30s")
	}
}

// webPerson is a test client of the web chat: it posts messages and reads
// the event stream.
type webPerson struct {
	t      *testing.T
	url    string
	token  string
	lang   string
	events chan map[string]json.RawMessage
	n      int
	last   bot.Reply
	stop   func()
}

func newWebPerson(t *testing.T, url, token, lang string) *webPerson {
	p := &webPerson{t: t, url: url, token: token, lang: lang, events: make(chan map[string]json.RawMessage, 16)}
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	t.Cleanup(cancel)
	resp, err := webchat.Dial(ctx, url, token, "")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("events: %v %v", resp, err)
	}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var m map[string]json.RawMessage
			if json.Unmarshal([]byte(data), &m) == nil {
				p.events <- m
			}
		}
		close(p.events)
	}()
	return p
}

func (p *webPerson) post(body map[string]string) int {
	p.t.Helper()
	p.n++
	body["token"], body["id"] = p.token, fmt.Sprintf("m%d", p.n)
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", p.url+"/chat/send", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Language", p.lang)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// next waits for the next event.
func (p *webPerson) next() map[string]json.RawMessage {
	p.t.Helper()
	select {
	case m, ok := <-p.events:
		if !ok {
			p.t.Fatal("the event stream ended")
		}
		return m
	case <-time.After(10 * time.Second):
		p.t.Fatal("no reply within 10s")
	}
	return nil
}

// reply waits for the next reply and keeps it as the last.
func (p *webPerson) reply() bot.Reply {
	p.t.Helper()
	m := p.next()
	raw, _ := json.Marshal(m)
	p.last = bot.Reply{}
	if err := json.Unmarshal(raw, &p.last); err != nil {
		p.t.Fatal(err)
	}
	return p.last
}

func (p *webPerson) say(text string) bot.Reply {
	p.t.Helper()
	if code := p.post(map[string]string{"text": text}); code != http.StatusNoContent {
		p.t.Fatalf("send %q: status %d", text, code)
	}
	return p.reply()
}

func (p *webPerson) tap(label string) bot.Reply {
	p.t.Helper()
	for _, c := range p.last.Choices {
		if c.Label == label {
			if code := p.post(map[string]string{"choice": c.ID}); code != http.StatusNoContent {
				p.t.Fatalf("tap %q: status %d", label, code)
			}
			return p.reply()
		}
	}
	p.t.Fatalf("no choice %q in %q", label, p.last.Text)
	return bot.Reply{}
}

// selfcheckSigns counts the self-check's questions whose yes is a sign: a
// person who says yes to every one hears that many counted.
func selfcheckSigns(t *testing.T) int {
	t.Helper()
	set, err := flow.Load(flows.FS())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, node := range set.Flows["selfcheck"].Nodes {
		for _, o := range node.Choices {
			if o.Add["risk"] > 0 {
				n++
			}
		}
	}
	return n
}
