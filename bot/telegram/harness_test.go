package telegram_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow/flowtest"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/bot/runner"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/store"
	"github.com/helpline/helpline/bot/store/redistest"
	"github.com/helpline/helpline/bot/telegram"
	"github.com/helpline/helpline/bot/telegram/telegramtest"
)

var server *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &server) }

const webhookSecret = "test-webhook-secret-0123456789"

// harness is the channel wired as serve wires it, with a real dispatcher,
// a real Redis and delivery running, against the fake Bot API.
type harness struct {
	t      testing.TB
	fake   *telegramtest.Fake
	ch     *telegram.Channel
	st     *store.Store
	rdb    *redis.Client
	keys   *secret.Keys
	cat    *lang.Catalog
	prefix string
	hook   string // the webhook's URL
	logs   *logFile
	// stop ends the channel and delivery and waits for them; the test's
	// cleanup calls it too.
	stop func()
}

// setup changes a harness before it starts.
type setup struct {
	opts func(*telegram.Options)
	// wrap wraps the dispatcher, to make it fail.
	wrap func(telegram.Dispatcher) telegram.Dispatcher
	// partitions is the store's number of partitions; zero means 4.
	partitions int
}

func newHarness(t testing.TB, s setup) *harness {
	t.Helper()
	engine, cat := flowtest.Shipped(t)
	rdb := server.Client()
	t.Cleanup(func() { rdb.Close() })
	prefix := strings.NewReplacer("/", "_", " ", "_", "#", "_").Replace(t.Name())
	// A benchmark builds its harness once per round, on the same prefix:
	// start from nothing, as a test does.
	if old, _ := rdb.Keys(context.Background(), prefix+":*").Result(); len(old) > 0 {
		rdb.Del(context.Background(), old...)
	}
	parts := s.partitions
	if parts == 0 {
		parts = 4
	}
	st := store.New(rdb, store.Options{Prefix: prefix, Partitions: parts})
	keys, err := secret.New([]byte("telegram tests use this secret, 32+ bytes"))
	if err != nil {
		t.Fatal(err)
	}
	logs := newLogFile(t)
	log := slog.New(slog.NewJSONHandler(logs.file, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fake := telegramtest.New()
	t.Cleanup(fake.Close)
	api, err := telegram.NewAPI(fake.Token, fake.URL, telegram.NewHTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	var disp telegram.Dispatcher = runner.NewDispatcher(runner.Config{Engine: engine, Store: st, Keys: keys, Log: log})
	if s.wrap != nil {
		disp = s.wrap(disp)
	}
	opts := telegram.Options{
		Secret: webhookSecret, ChatRate: -1, Rate: -1, PollWait: time.Second,
		IsClear: func(text string) bool { return engine.CommandName(text) == "clear" },
	}
	if s.opts != nil {
		s.opts(&opts)
	}
	ch := telegram.New(api, telegram.Deps{
		Dispatcher: disp, Marks: st, Trail: st, Counter: st, Keys: keys, Texts: cat, Log: log,
	}, opts)
	mux := http.NewServeMux()
	ch.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	// A short Block: a shutdown waits for the outbox reads in flight, and
	// the default 2s would be most of every test's time.
	delivery := runner.NewDelivery(st, keys, map[bot.Channel]bot.Sender{bot.Telegram: ch}, nil, log,
		runner.DeliveryOptions{Consumer: "test", Backoff: 20 * time.Millisecond, Drain: time.Second, Block: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { delivery.Run(ctx) })
	wg.Go(func() { ch.Run(ctx) })
	stop := sync.OnceFunc(func() { cancel(); wg.Wait() })
	t.Cleanup(stop)
	return &harness{t: t, fake: fake, ch: ch, st: st, rdb: rdb, keys: keys, cat: cat, prefix: prefix, hook: srv.URL + telegram.WebhookPath, logs: logs, stop: stop}
}

// post delivers an update through the webhook and returns the status.
func (h *harness) post(update []byte) int {
	h.t.Helper()
	code, err := h.fake.Post(h.hook, webhookSecret, update)
	if err != nil {
		h.t.Fatal(err)
	}
	return code
}

// person is a Telegram user who writes through the webhook.
func (h *harness) person(chat int64, lang string) *telegramtest.Person {
	p := &telegramtest.Person{T: h.t, Fake: h.fake, Chat: chat, Lang: lang}
	p.Deliver = func(u []byte) {
		if code := h.post(u); code != http.StatusOK {
			h.t.Fatalf("webhook answered %d", code)
		}
	}
	return p
}

// pid is the pseudonymous ID of a chat.
func (h *harness) pid(chat int64) string {
	return h.keys.PersonID(bot.Telegram, telegramtest.Address(chat))
}

// text renders a message in lang.
func (h *harness) text(lang, id string) string {
	s, _ := h.cat.Text(lang, id, nil, nil)
	return s
}

// stats returns today's counters.
func (h *harness) stats() map[string]int64 {
	h.t.Helper()
	s, err := h.st.Stats(context.Background(), time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// dump returns every key and value of this test's Redis, for searching.
func (h *harness) dump() string {
	h.t.Helper()
	ctx := context.Background()
	var b strings.Builder
	keys, err := h.rdb.Keys(ctx, h.prefix+":*").Result()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, k := range keys {
		fmt.Fprintln(&b, k)
		switch h.rdb.Type(ctx, k).Val() {
		case "string":
			fmt.Fprintln(&b, h.rdb.Get(ctx, k).Val())
		case "hash":
			fmt.Fprintln(&b, h.rdb.HGetAll(ctx, k).Val())
		case "zset":
			fmt.Fprintln(&b, h.rdb.ZRange(ctx, k, 0, -1).Val())
		case "stream":
			fmt.Fprintln(&b, h.rdb.XRange(ctx, k, "-", "+").Val())
		default:
			h.t.Fatalf("dump: key %s of an unknown type", k)
		}
	}
	return b.String()
}

// personKeys returns the keys of a chat's person.
func (h *harness) personKeys(chat int64) []string {
	h.t.Helper()
	keys, err := h.rdb.Keys(context.Background(), h.prefix+":*"+h.pid(chat)+"*").Result()
	if err != nil {
		h.t.Fatal(err)
	}
	return keys
}

// outboxEmpty waits until every outbox entry is delivered.
func (h *harness) outboxEmpty() {
	h.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		n := int64(0)
		for p := range h.st.Partitions() {
			c, _ := h.rdb.XLen(ctx, h.prefix+":{"+strconv.Itoa(p)+"}:out").Result()
			n += c
		}
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatal("the outbox did not empty within 10s")
}

// assertClean fails if the logs hold any of words.
func (h *harness) assertClean(words ...string) {
	h.t.Helper()
	logs := h.logs.String()
	for _, w := range words {
		if w != "" && strings.Contains(logs, w) {
			h.t.Errorf("the logs contain %q:\n%s", w, logs)
		}
	}
}

// logFile holds a harness's logs: a file takes concurrent writes whole.
type logFile struct {
	t    testing.TB
	file *os.File
}

func newLogFile(t testing.TB) *logFile {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &logFile{t: t, file: f}
}

func (l *logFile) String() string {
	b, err := os.ReadFile(l.file.Name())
	if err != nil {
		l.t.Fatal(err)
	}
	return string(b)
}
