package runner_test

import (
	"context"
	"errors"
	"fmt"

	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/flow/flowtest"
	"github.com/helpline/helpline/bot/runner"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/store"
	"github.com/helpline/helpline/bot/store/redistest"
)

var server *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &server) }

var quiet = slog.New(slog.DiscardHandler)

type fixture struct {
	st     *store.Store
	keys   *secret.Keys
	engine *flow.Engine
	disp   *runner.Dispatcher
}

func setup(t testing.TB, partitions int) fixture {
	t.Helper()
	engine, _ := flowtest.Shipped(t)
	rdb := server.Client()
	t.Cleanup(func() { rdb.Close() })
	prefix := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	st := store.New(rdb, store.Options{Prefix: prefix, Partitions: partitions})
	keys, err := secret.New([]byte("runner tests use this secret, 32+ bytes"))
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{st: st, keys: keys, engine: engine}
	f.disp = f.dispatcher(nil, 0)
	return f
}

// dispatcher makes another dispatcher over the fixture's store, as another
// replica would.
func (f fixture) dispatcher(c runner.Courier, remember int) *runner.Dispatcher {
	return runner.NewDispatcher(runner.Config{Engine: f.engine, Store: f.st, Keys: f.keys, Log: quiet, Courier: c, Remember: remember})
}

// TestConcurrentMessagesOfOnePerson sends many messages of one person at
// once through two dispatchers, as two replicas would: each message is
// applied exactly once, none is lost, and a redelivered one changes nothing.
func TestConcurrentMessagesOfOnePerson(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 4)
	replicas := []*runner.Dispatcher{f.disp, f.dispatcher(nil, 0)}
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- replicas[i%2].Handle(ctx, bot.Inbound{Channel: bot.Web, Address: "tok-concurrent", ID: fmt.Sprint("m", i), Text: "hello"})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	pid := f.keys.PersonID(bot.Web, "tok-concurrent")
	rec, err := f.st.Load(ctx, pid)
	if err != nil || rec.Version != n {
		t.Fatalf("version %d (%v), want %d: one commit per message", rec.Version, err, n)
	}
	if err := f.disp.Handle(ctx, bot.Inbound{Channel: bot.Web, Address: "tok-concurrent", ID: "m3", Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	stats, _ := f.st.Stats(ctx, time.Now())
	if stats["in.web"] != n {
		t.Fatalf("in.web = %d, want %d: the redelivery must not count", stats["in.web"], n)
	}
	if rec, _ := f.st.Load(ctx, pid); rec.Version != n {
		t.Fatalf("a redelivered message changed the session: version %d", rec.Version)
	}
}

// sender records sends and fails as its script says.
type sender struct {
	mu    sync.Mutex
	sent  []bot.Outgoing
	fails []error // returned by the next sends, in order
}

func (s *sender) Send(ctx context.Context, out bot.Outgoing) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.fails) > 0 {
		err := s.fails[0]
		s.fails = s.fails[1:]
		if err != nil {
			return err
		}
	}
	s.sent = append(s.sent, out)
	return nil
}

func (s *sender) texts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, o := range s.sent {
		out = append(out, o.Reply.Text)
	}
	return out
}

// fastDelivery retries within milliseconds. claimIdle is how long an entry
// must sit before another consumer may take it.
func fastDelivery(f fixture, s bot.Sender, consumer string, claimIdle time.Duration) *runner.Delivery {
	return runner.NewDelivery(f.st, f.keys, map[bot.Channel]bot.Sender{bot.Web: s}, nil, quiet, runner.DeliveryOptions{
		Consumer: consumer, Backoff: time.Millisecond, MaxWait: 50 * time.Millisecond, ClaimIdle: claimIdle,
	})
}

// runUntil runs delivery until cond holds or 10 seconds pass.
func runUntil(t *testing.T, d *runner.Delivery, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatal("delivery did not get there within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}

func TestDeliveryRetriesThenSends(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 1)
	s := &sender{fails: []error{errors.New("503 from provider"), &bot.RetryAfter{Delay: time.Millisecond, Err: errors.New("429")}}}
	if err := f.disp.Handle(ctx, bot.Inbound{Channel: bot.Web, Address: "tok-retry", ID: "1", Text: "hi", LangHints: []string{"en"}}); err != nil {
		t.Fatal(err)
	}
	runUntil(t, fastDelivery(f, s, "a", time.Minute), func() bool { return len(s.texts()) == 1 })
	if got := s.sent[0]; got.Address != "tok-retry" || got.PID != f.keys.PersonID(bot.Web, "tok-retry") || !strings.Contains(got.Reply.Text, "Hello") {
		t.Fatalf("sent %+v", got)
	}
}

func TestDeliveryDropsPermanentFailures(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 1)
	s := &sender{fails: []error{fmt.Errorf("blocked: %w", bot.ErrPermanent)}}
	f.disp.Handle(ctx, bot.Inbound{Channel: bot.Web, Address: "tok-perm", ID: "1", Text: "hi"})
	f.disp.Handle(ctx, bot.Inbound{Channel: bot.Web, Address: "tok-perm", ID: "2", Text: "hi"})
	runUntil(t, fastDelivery(f, s, "a", time.Minute), func() bool { return len(s.texts()) == 1 })
	stats, _ := f.st.Stats(ctx, time.Now())
	if stats["send.permanent"] != 1 {
		t.Fatalf("stats %v: want one permanent drop counted", stats)
	}
}

// TestOutboxSurvivesADeadSender: a replica takes a batch and dies before
// sending it; another replica claims the entries and sends them, in order.
func TestOutboxSurvivesADeadSender(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 1)
	for i, text := range []string{"hi", "1", "1"} {
		if err := f.disp.Handle(ctx, bot.Inbound{Channel: bot.Web, Address: "tok-dead", ID: fmt.Sprint(i), Text: text, LangHints: []string{"en"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.st.EnsureGroups(ctx); err != nil {
		t.Fatal(err)
	}
	taken, err := f.st.ReadOutbox(ctx, 0, "dies", 10, time.Millisecond)
	if err != nil || len(taken) != 3 {
		t.Fatalf("the dying replica took %d entries (%v), want 3", len(taken), err)
	}
	s := &sender{}
	d := fastDelivery(f, s, "lives", time.Millisecond)
	time.Sleep(5 * time.Millisecond) // the entries must sit idle longer than ClaimIdle
	if err := d.ClaimOnce(ctx); err != nil {
		t.Fatal(err)
	}
	got := s.texts()
	if len(got) != 3 || !strings.Contains(got[0], "Hello") {
		t.Fatalf("the living replica sent %q, want the three replies in order", got)
	}
	if again, _ := f.st.ClaimOutbox(ctx, 0, "x", 0, 10); len(again) != 0 {
		t.Fatalf("entries left after they were sent: %d", len(again))
	}
}

// TestCommittedRepliesGoStraightToTheCourier: with a courier, a commit hands
// its replies to this replica's delivery, which sends them. The entries are
// pending for the courier from the commit on, so no reader could have
// taken them (the store's tests prove that part).
func TestCommittedRepliesGoStraightToTheCourier(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := setup(t, 2)
	s := &sender{}
	d := runner.NewDelivery(f.st, f.keys, map[bot.Channel]bot.Sender{bot.Web: s}, nil, quiet, runner.DeliveryOptions{Consumer: "me", Block: 100 * time.Millisecond})
	f.disp = f.dispatcher(d, 0)
	if err := f.st.EnsureGroups(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	for i, text := range []string{"hi", "1"} {
		if err := f.disp.Handle(ctx, bot.Inbound{Channel: bot.Web, Address: "tok-courier", ID: fmt.Sprint(i), Text: text, LangHints: []string{"en"}}); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); len(s.texts()) < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("sent %q", s.texts())
		}
	}
	cancel()
	<-done
}

// TestSentEntriesLeaveWithTheNextCommit: a sent entry stays in the outbox
// until the next commit in its partition removes it in its own round trip;
// what no commit takes, the remover takes after Linger, and at shutdown.
func TestSentEntriesLeaveWithTheNextCommit(t *testing.T) {
	for _, linger := range []time.Duration{time.Hour, 5 * time.Millisecond} {
		t.Run(linger.String(), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f := setup(t, 1)
			rdb := server.Client()
			defer rdb.Close()
			outbox := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + ":{0}:out"
			s := &sender{}
			d := runner.NewDelivery(f.st, f.keys, map[bot.Channel]bot.Sender{bot.Web: s}, nil, quiet, runner.DeliveryOptions{Consumer: "me", Block: 100 * time.Millisecond, Linger: linger})
			f.disp = f.dispatcher(d, 0)
			if err := f.st.EnsureGroups(ctx); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { d.Run(ctx); close(done) }()
			waitFor := func(what string, ok func() bool) {
				t.Helper()
				for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("waited in vain for %s", what)
					}
				}
			}
			entries := func() int64 { n, _ := rdb.XLen(ctx, outbox).Result(); return n }
			for i, text := range []string{"hi", "1"} {
				if err := f.disp.Handle(ctx, bot.Inbound{Channel: bot.Web, Address: "tok-linger", ID: fmt.Sprint(i), Text: text, LangHints: []string{"en"}}); err != nil {
					t.Fatal(err)
				}
				waitFor("the reply", func() bool { return len(s.texts()) == i+1 })
				if linger == time.Hour {
					// Only the reply just sent is left: the commit took the one before.
					if n := entries(); n != 1 {
						t.Fatalf("after message %d the outbox holds %d entries, want 1", i, n)
					}
				} else {
					waitFor("the remover", func() bool { return entries() == 0 })
				}
			}
			cancel()
			<-done
			if n := entries(); n != 0 {
				t.Fatalf("%d entries left after shutdown", n)
			}
		})
	}
}

// lang reads the stored session's language.
func (f fixture) lang(t *testing.T, addr string) string {
	t.Helper()
	rec, err := f.st.Load(context.Background(), f.keys.PersonID(bot.Web, addr))
	if err != nil || rec.Session == nil {
		t.Fatalf("load: %v %v", rec, err)
	}
	return f.open(t, f.keys.PersonID(bot.Web, addr), rec).Lang
}

// open opens and decodes a stored session, which is stored sealed.
func (f fixture) open(t testing.TB, pid string, rec store.Record) bot.Session {
	t.Helper()
	var s bot.Session
	if rec.Session == nil {
		return s
	}
	b, err := f.keys.Open(rec.Session, pid)
	if err != nil {
		t.Fatalf("the session does not open with the person's key: %v", err)
	}
	if err := s.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRememberedRecordsStayCorrectAcrossReplicas: replica A remembers the
// records it commits; replica B changes the person meanwhile, even erases
// them and starts afresh with as many messages: A must notice, read, and
// never step on what it remembered.
func TestRememberedRecordsStayCorrectAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 4)
	a := f.dispatcher(nil, 100)
	b := f.dispatcher(nil, 0)
	n := 0
	send := func(d *runner.Dispatcher, text, hint string) {
		t.Helper()
		n++
		if err := d.Handle(ctx, bot.Inbound{Channel: bot.Web, Address: "tok-aba", ID: fmt.Sprint(n), Text: text, LangHints: []string{hint}}); err != nil {
			t.Fatal(err)
		}
	}
	send(a, "tere", "et")
	send(a, "1", "et") // Estonian, first on the list
	if got := f.lang(t, "tok-aba"); got != "et" {
		t.Fatalf("language %q, want et", got)
	}
	send(b, "/forget", "en")
	send(b, "hello", "en")
	send(b, "1", "en") // English: as many commits since the erase as A made
	send(a, "menu", "et")
	if got := f.lang(t, "tok-aba"); got != "en" {
		t.Fatalf("language %q after A's message: A stepped on the session it remembered from before the erase", got)
	}
	stats, _ := f.st.Stats(ctx, time.Now())
	if stats["in.web"] != int64(n) {
		t.Fatalf("in.web = %d, want %d", stats["in.web"], n)
	}
}

// TestOutboxHoldsRepliesSealed: a reply waiting in the outbox is sealed
// with the person's key, and delivery still sends it whole.
func TestOutboxHoldsRepliesSealed(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 1)
	if err := f.disp.Handle(ctx, bot.Inbound{Channel: bot.Web, Address: "tok-sealed", ID: "m1", Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	rdb := server.Client()
	defer rdb.Close()
	prefix := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	entries, err := rdb.XRange(ctx, prefix+":{0}:out", "-", "+").Result()
	if err != nil || len(entries) == 0 {
		t.Fatalf("outbox: %v %v", entries, err)
	}
	for _, e := range entries {
		for k, v := range e.Values {
			if s, _ := v.(string); strings.Contains(s, "welcome") || strings.Contains(s, "English") {
				t.Fatalf("field %s of an outbox entry is in clear: %.80q", k, s)
			}
		}
	}
	s := &sender{}
	runUntil(t, fastDelivery(f, s, "a", time.Minute), func() bool { return len(s.texts()) == len(entries) })
	if got := s.texts(); got[0] == "" || len(s.sent[0].Reply.Choices) == 0 {
		t.Fatalf("the sealed reply did not open whole: %+v", s.sent[0].Reply)
	}
}

// refusingOutbox refuses the next removals of finished entries, as Redis
// does while a master fails over.
type refusingOutbox struct {
	runner.Outbox
	mu      sync.Mutex
	refuse  int
	refused int
}

func (o *refusingOutbox) DoneMany(ctx context.Context, ids map[int][]store.Sent) error {
	o.mu.Lock()
	if o.refuse > 0 {
		o.refuse--
		o.refused++
		o.mu.Unlock()
		return errors.New("dial tcp: connection refused")
	}
	o.mu.Unlock()
	return o.Outbox.DoneMany(ctx, ids)
}

// TestRefusedRemovalIsTriedAgain: a sent entry whose removal Redis refuses
// is removed on a later try, while delivery runs and at shutdown; left in
// the outbox, a claim would send it a second time.
func TestRefusedRemovalIsTriedAgain(t *testing.T) {
	for _, linger := range []time.Duration{5 * time.Millisecond, time.Hour} {
		t.Run(linger.String(), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f := setup(t, 1)
			rdb := server.Client()
			defer rdb.Close()
			outbox := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + ":{0}:out"
			s := &sender{}
			box := &refusingOutbox{Outbox: f.st, refuse: 3}
			d := runner.NewDelivery(box, f.keys, map[bot.Channel]bot.Sender{bot.Web: s}, nil, quiet,
				runner.DeliveryOptions{Consumer: "me", Block: 100 * time.Millisecond, Linger: linger, Backoff: 10 * time.Millisecond})
			f.disp = f.dispatcher(d, 0)
			done := make(chan struct{})
			go func() { d.Run(ctx); close(done) }()
			if err := f.disp.Handle(ctx, bot.Inbound{Channel: bot.Web, Address: "tok-refused", ID: "1", Text: "hi", LangHints: []string{"en"}}); err != nil {
				t.Fatal(err)
			}
			entries := func() int64 { n, _ := rdb.XLen(ctx, outbox).Result(); return n }
			for deadline := time.Now().Add(10 * time.Second); len(s.texts()) < 1 || (linger < time.Hour && entries() > 0); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("sent %q, %d entries left", s.texts(), entries())
				}
			}
			cancel() // with a linger of an hour, the shutdown removes the entry
			<-done
			if n := entries(); n != 0 {
				t.Fatalf("%d entries left after shutdown", n)
			}
			if box.refused != 3 {
				t.Fatalf("%d removals refused, want 3", box.refused)
			}
		})
	}
}

// TestStaleUrgentReplyStillSent: a reply to danger words that a dead
// replica held and never sent is sent when a live one takes it over, even
// though a later reply reached the person meanwhile, as a new message; a
// plain stale reply is dropped.
func TestStaleUrgentReplyStillSent(t *testing.T) {
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprint("urgent kept ", keep), func(t *testing.T) {
			ctx := context.Background()
			f := setup(t, 1)
			// A replica commits the answer to danger words, takes the
			// entry, and dies before sending it.
			if err := f.disp.Handle(ctx, bot.Inbound{Channel: bot.Web, Address: "tok-stale", ID: "1", Text: "help me please", Ref: "tapped-1", LangHints: []string{"en"}}); err != nil {
				t.Fatal(err)
			}
			if held, err := f.st.ReadOutbox(ctx, 0, "dead", 10, 0); err != nil || len(held) == 0 {
				t.Fatalf("the dead replica took nothing: %v %v", held, err)
			}
			// The person writes again; a live replica answers at once.
			s := &sender{}
			urgent := func(r bot.Reply) bool {
				return keep && len(r.Choices) > 0 && strings.HasPrefix(r.Choices[0].ID, "danger/")
			}
			live := runner.NewDelivery(f.st, f.keys, map[bot.Channel]bot.Sender{bot.Web: s}, nil, quiet,
				runner.DeliveryOptions{Consumer: "live", Block: 50 * time.Millisecond, ClaimEvery: 50 * time.Millisecond, Urgent: urgent})
			other := f.dispatcher(live, 0)
			ctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { live.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			if err := other.Handle(ctx, bot.Inbound{Channel: bot.Web, Address: "tok-stale", ID: "2", Text: "2", LangHints: []string{"en"}}); err != nil {
				t.Fatal(err)
			}
			rdb := server.Client()
			defer rdb.Close()
			outbox := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + ":{0}:out"
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if n, _ := rdb.XLen(ctx, outbox).Result(); n == 0 && len(s.texts()) > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the dead replica's entry was never taken over; sent %q", s.texts())
				}
			}
			late := slices.ContainsFunc(s.texts(), func(x string) bool { return strings.Contains(x, "police, ambulance") })
			if late != keep {
				t.Fatalf("urgent kept %v, but the late answer to danger words sent: %v (%q)", keep, late, s.texts())
			}
			// Sent late, it is a message of its own: in place of the one
			// it answered, it would cover the later answer.
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, o := range s.sent {
				if o.Ref == "tapped-1" {
					t.Fatalf("the late answer went in place of the message it answered: %q", o.Reply.Text)
				}
			}
		})
	}
}

// TestTakenOverRepliesLatestOnly: of two replies to one person that a dead
// replica held (it may have sent both before it could remove either) and
// that go in the same place (the same message tapped), a live replica that
// takes them over sends the later one only: sending both in order would put
// the older question back for a moment. Replies that go in places of their
// own are all sent (TestOutboxSurvivesADeadSender).
func TestTakenOverRepliesLatestOnly(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 1)
	for id, text := range []string{"hello", "menu"} {
		if err := f.disp.Handle(ctx, bot.Inbound{Channel: bot.Web, Address: "tok-two", ID: fmt.Sprint(id), Text: text, Ref: "tapped-1", LangHints: []string{"en"}}); err != nil {
			t.Fatal(err)
		}
	}
	held, err := f.st.ReadOutbox(ctx, 0, "dead", 10, 0)
	if err != nil || len(held) != 2 {
		t.Fatalf("the dead replica took %d entries (%v), want 2", len(held), err)
	}
	s := &sender{}
	live := runner.NewDelivery(f.st, f.keys, map[bot.Channel]bot.Sender{bot.Web: s}, nil, quiet,
		runner.DeliveryOptions{Consumer: "live", Block: 50 * time.Millisecond, ClaimEvery: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { live.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	rdb := server.Client()
	defer rdb.Close()
	outbox := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + ":{0}:out"
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if n, _ := rdb.XLen(ctx, outbox).Result(); n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dead replica's entries were never taken over; sent %q", s.texts())
		}
	}
	if got := s.texts(); len(got) != 1 {
		t.Fatalf("sent %d replies %q, want the later one only", len(got), got)
	}
}

// TestDeliveryStartsBeforeRedis starts delivery while Redis is down, as a
// replica that starts first may: it must not give up, and sends what is
// committed once Redis answers.
func TestDeliveryStartsBeforeRedis(t *testing.T) {
	ctx := context.Background()
	srv, err := redistest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	rdb := srv.Client()
	t.Cleanup(func() { rdb.Close() })
	f := setup(t, 2)
	f.st = store.New(rdb, store.Options{Partitions: 2})
	f.disp = f.dispatcher(nil, 0)
	srv.Kill()
	s := &sender{}
	d := fastDelivery(f, s, "a", time.Minute)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { d.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()
	select {
	case <-done:
		t.Fatal("delivery stopped while Redis was down")
	case <-time.After(3 * time.Second): // longer than the client's retries take to give up
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := f.disp.Handle(ctx, bot.Inbound{Channel: bot.Web, Address: "tok-late-redis", ID: "1", Text: "hi", LangHints: []string{"en"}}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(s.texts()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("nothing sent within 10s of Redis answering")
		}
	}
}
