package twilio

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/flow/flowtest"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/bot/runner"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/store"
	"github.com/helpline/helpline/bot/store/redistest"
	"github.com/helpline/helpline/bot/twilio/twiliotest"
)

var redisServer *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &redisServer) }

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "0123456789abcdef0123456789abcdef"
	testURL   = "https://helpline.example.org"
)

// fixture is one of the provider's own webhook posts in testdata.
type fixture struct {
	ContentType string            `json:"content_type"`
	RawBody     string            `json:"raw_body"`
	Params      map[string]string `json:"params"`
}

func loadFixture(t testing.TB, name string) fixture {
	t.Helper()
	var f fixture
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err == nil {
		err = json.Unmarshal(b, &f)
	}
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// harness is the channel over real Redis, the shipped flows and a fake
// Twilio, with the dispatcher and the outbox delivery running.
type harness struct {
	t      *testing.T
	api    *twiliotest.API
	ch     *Channel
	st     *store.Store
	disp   *runner.Dispatcher
	cat    *lang.Catalog
	srv    *httptest.Server
	logs   *os.File
	msgs   int
	seen   map[string]int    // replies read, by number
	secret map[string]string // what must never be logged: numbers and texts
}

func newHarness(t *testing.T, edit func(*Options)) *harness {
	t.Helper()
	return newHarnessOn(t, redisServer, edit)
}

// newHarnessOn is newHarness over the Redis srv: a test that stops its
// Redis has one of its own.
func newHarnessOn(t *testing.T, srv *redistest.Server, edit func(*Options)) *harness {
	t.Helper()
	engine, cat := flowtest.Shipped(t)
	rdb := srv.Client()
	t.Cleanup(func() { rdb.Close() })
	st := store.New(rdb, store.Options{Prefix: strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()), Partitions: 4})
	keys, err := secret.New([]byte("twilio tests use this secret, 32+ bytes"))
	if err != nil {
		t.Fatal(err)
	}
	logs, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, st: st, cat: cat, logs: logs, seen: map[string]int{}, secret: map[string]string{}}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.api = twiliotest.NewAPI(t, testSID, testToken)
	h.disp = runner.NewDispatcher(runner.Config{Engine: engine, Store: st, Keys: keys, Log: log})
	opts := Options{
		AccountSID: testSID, AuthToken: testToken, PublicURL: testURL, From: "+3725550000",
		APIURL: h.api.URL, Rate: 1000, EraseCommand: "/erase", Normalize: flow.Normalize,
	}
	if edit != nil {
		edit(&opts)
	}
	if h.ch, err = New(h.disp, st, cat, log, opts); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.ch.Routes(mux)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	// A short Block: a shutdown waits for the outbox reads in flight, and
	// the default 2s would be most of every test's time.
	delivery := runner.NewDelivery(st, keys, map[bot.Channel]bot.Sender{bot.SMS: h.ch, bot.WhatsApp: h.ch}, nil, log,
		runner.DeliveryOptions{Consumer: "test", Backoff: time.Millisecond, Block: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	held := make(chan struct{})
	go func() { delivery.Run(ctx); close(done) }()
	go func() { h.ch.Run(ctx); close(held) }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-held
		h.checkLogs()
	})
	return h
}

// post signs a form as Twilio would for PublicURL+path and posts it.
func (h *harness) post(path string, form url.Values) *http.Response {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.SignForm(testToken, testURL+path, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// send posts a message from a number as a new MessageSid, and returns the
// SID.
func (h *harness) send(from, text string) string {
	h.t.Helper()
	h.msgs++
	sid := fmt.Sprintf("SM%032x", h.msgs)
	h.sendAs(sid, from, text)
	return sid
}

// sendAs posts a message with a given MessageSid: Twilio's redelivery.
func (h *harness) sendAs(sid, from, text string) {
	h.t.Helper()
	if status := h.postMessage(sid, from, text); status != http.StatusOK {
		h.t.Fatalf("message %q: status %d", text, status)
	}
}

// postMessage posts a message and returns the webhook's status.
func (h *harness) postMessage(sid, from, text string) int {
	h.t.Helper()
	h.secret[from] = "number"
	h.secret[strings.TrimPrefix(from, "whatsapp:+")] = "number"
	if len(text) >= 5 {
		h.secret[text] = "text"
	}
	form := url.Values{"MessageSid": {sid}, "AccountSid": {testSID}, "From": {from}, "To": {"+3725550000"}, "Body": {text}, "NumMedia": {"0"}}
	return h.post(inboundPath, form).StatusCode
}

// reply waits for the next message the bot sends to a number.
func (h *harness) reply(to string) string {
	h.t.Helper()
	h.seen[to]++
	sent := h.api.WaitSent(h.t, to, h.seen[to])
	return sent[len(sent)-1].Body
}

// say sends a message and returns the bot's reply.
func (h *harness) say(from, text string) string {
	h.t.Helper()
	h.send(from, text)
	return h.reply(from)
}

// waitCount waits until the day's counter reaches n.
func (h *harness) waitCount(name string, n int64) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		stats, err := h.st.Stats(context.Background(), time.Now())
		if err != nil {
			h.t.Fatal(err)
		}
		if stats[name] >= n {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("counter %s is %d after 10s, want %d", name, stats[name], n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pid is the person ID of a number.
func (h *harness) pid(from string) string {
	ch, _ := channelOf(from)
	return h.disp.PersonID(bot.Inbound{Channel: ch, Address: from})
}

// text renders a message of the shipped locales.
func (h *harness) text(lang, id string) string {
	s, _ := h.cat.Text(lang, id, nil, nil)
	return s
}

// checkLogs fails the test if a number or a message's text was logged.
func (h *harness) checkLogs() {
	logs, err := os.ReadFile(h.logs.Name())
	if err != nil {
		h.t.Fatal(err)
	}
	for s, what := range h.secret {
		if strings.Contains(string(logs), s) {
			h.t.Errorf("the log holds a %s: %q", what, s)
		}
	}
}
