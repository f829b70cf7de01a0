package runner_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/flow/flowtest"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/bot/runner"
	"github.com/helpline/helpline/locales"
)

type caseFixture struct {
	fixture
	desk   *runner.Desk
	ticker *runner.Ticker
	web    *sender
	cat    *lang.Catalog
	t      *testing.T
}

// caseOptions tune a case fixture.
type caseOptions struct {
	open      func(time.Time) bool // counsellors at work; nil always
	unclaimed time.Duration        // default an hour
}

// setupCases runs a dispatcher with the queue, and delivery in the
// background until the test ends.
func setupCases(t *testing.T, opts caseOptions) caseFixture {
	f := setup(t, 4)
	cat, err := lang.Load(locales.FS())
	if err != nil {
		t.Fatal(err)
	}
	if opts.open != nil {
		f.engine = flowtest.ShippedWith(t, flow.Options{Open: opts.open})
	}
	if opts.unclaimed == 0 {
		opts.unclaimed = time.Hour
	}
	web := &sender{}
	q := runner.NewQueue(f.st, f.keys, cat, quiet, runner.QueueOptions{})
	d := runner.NewDelivery(f.st, f.keys, map[bot.Channel]bot.Sender{bot.Web: web}, q, quiet,
		runner.DeliveryOptions{Consumer: "t", Backoff: time.Millisecond, Block: 50 * time.Millisecond})
	f.disp = f.dispatcher(d, 0)
	cf := caseFixture{fixture: f, desk: runner.NewDesk(f.st, f.disp, f.keys, quiet, runner.DeskOptions{}),
		ticker: runner.NewTicker(q, f.st, f.keys, quiet, opts.unclaimed, time.Hour), web: web, cat: cat, t: t}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return cf
}

// session reads a person's stored session.
func (f caseFixture) session(pid string) bot.Session {
	f.t.Helper()
	rec, err := f.st.Load(context.Background(), pid)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.open(f.t, pid, rec)
}

func (f caseFixture) en(id string) string { s, _ := f.cat.Text("en", id, nil, nil); return s }

// person is someone on the web chat.
type person struct {
	f    caseFixture
	addr string
	n    int
}

func (p *person) say(text string) {
	p.f.t.Helper()
	p.n++
	if err := p.f.disp.Handle(context.Background(), bot.Inbound{Channel: bot.Web, Address: p.addr, ID: fmt.Sprint(p.n), Text: text, LangHints: []string{"en"}}); err != nil {
		p.f.t.Fatal(err)
	}
}

func (p *person) tap(choice string) {
	p.f.t.Helper()
	p.n++
	if err := p.f.disp.Handle(context.Background(), bot.Inbound{Channel: bot.Web, Address: p.addr, ID: fmt.Sprint(p.n), Choice: choice}); err != nil {
		p.f.t.Fatal(err)
	}
}

func (p *person) pid() string { return p.f.keys.PersonID(bot.Web, p.addr) }

// askForCounsellor walks from hello to a handoff, skipping the intake.
func (p *person) askForCounsellor() {
	for _, text := range []string{"hi", "1", "1", "counsellor", "2"} {
		p.say(text)
	}
}

// received waits until the person was sent a text containing want.
func (f caseFixture) received(addr, want string) {
	f.t.Helper()
	waitFor(f.t, "a reply with "+want, func() bool {
		f.web.mu.Lock()
		defer f.web.mu.Unlock()
		for _, o := range f.web.sent {
			if o.Address == addr && strings.Contains(o.Reply.Text, want) {
				return true
			}
		}
		return false
	})
}

func (f caseFixture) count(addr, want string) int {
	f.web.mu.Lock()
	defer f.web.mu.Unlock()
	n := 0
	for _, o := range f.web.sent {
		if o.Address == addr && strings.Contains(o.Reply.Text, want) {
			n++
		}
	}
	return n
}

// waiting waits until the queue holds n cases.
func (f caseFixture) waiting(n int) []bot.Case {
	f.t.Helper()
	var ws []bot.Case
	waitFor(f.t, fmt.Sprint(n, " waiting cases"), func() bool {
		ws, _ = f.st.Waiting(context.Background())
		return len(ws) == n
	})
	return ws
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10s", what)
		}
	}
}

var anna = bot.Counsellor{Name: "anna", Langs: []string{"en", "et"}, Capacity: 2}

// TestCaseFromHandoffToMenu is the whole life of a case: the handoff
// queues it and tells the place; a claim tells the person; their messages
// reach the transcript and not the bot; a reply reaches them once; danger
// words raise the case; the end brings them back to the menu.
func TestCaseFromHandoffToMenu(t *testing.T) {
	ctx := context.Background()
	f := setupCases(t, caseOptions{})
	p := &person{f: f, addr: "tok-life"}
	p.askForCounsellor()
	ws := f.waiting(1)
	code := ws[0].Code
	if ws[0].Lang != "en" || ws[0].Channel != "web" || ws[0].Topic != "counsellor" || ws[0].PID != p.pid() {
		t.Fatalf("queued case %+v", ws[0])
	}
	f.received(p.addr, "You are number 1 in the queue")

	if err := f.desk.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	f.received(p.addr, f.en("queue.joined"))
	if err := f.desk.Claim(ctx, bot.Counsellor{Name: "olga", Langs: []string{"en"}, Capacity: 2}, code); !errors.Is(err, bot.ErrTaken) {
		t.Fatalf("a second claim: %v", err)
	}

	before := len(f.web.texts())
	p.say("I need a place to sleep tonight")
	view, err := f.desk.View(ctx, anna, code)
	if err != nil {
		t.Fatal(err)
	}
	last := view.Lines[len(view.Lines)-1]
	if last.Who != "p" || last.Text != "I need a place to sleep tonight" {
		t.Fatalf("transcript %+v", view.Lines)
	}
	if len(f.web.texts()) != before {
		t.Fatalf("the bot answered a message meant for the counsellor: %q", f.web.texts()[before:])
	}

	for range 2 { // a double click sends once
		if err := f.desk.Reply(ctx, anna, code, "Hello, I am Anna.", "r1"); err != nil {
			t.Fatal(err)
		}
	}
	f.received(p.addr, "Hello, I am Anna.")

	p.say("they took my passport")
	waitFor(t, "an urgent case", func() bool {
		c, _ := f.st.Case(ctx, code)
		return c.Priority == 2 && len(c.Flags) > 0
	})

	if err := f.desk.End(ctx, anna, code, "referral_shelter", "booked a bed"); err != nil {
		t.Fatal(err)
	}
	f.received(p.addr, f.en("queue.ended"))
	f.received(p.addr, f.en("menu.question"))
	if n := f.count(p.addr, "Hello, I am Anna."); n != 1 {
		t.Fatalf("the reply was sent %d times", n)
	}
	if s := f.session(p.pid()); s.Case != (bot.OpenCase{}) {
		t.Fatalf("the case stays open after the end: %+v", s.Case)
	}
	if c, _ := f.st.Case(ctx, code); c.State != bot.Closed || c.Wrap != "referral_shelter" {
		t.Fatalf("ended case %+v", c)
	}
	p.say("hello")
	f.received(p.addr, f.en("menu.question"))
	stats, _ := f.st.Stats(ctx, time.Now())
	if stats["case.open"] != 1 || stats["case.wrap.referral_shelter"] != 1 || stats["case.claimed"] != 1 || stats["wait.lt1m"] != 1 {
		t.Fatalf("stats %v", stats)
	}
}

func TestOnlyTheHolderAnswers(t *testing.T) {
	ctx := context.Background()
	f := setupCases(t, caseOptions{})
	p := &person{f: f, addr: "tok-own"}
	p.askForCounsellor()
	code := f.waiting(1)[0].Code
	if err := f.desk.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	olga := bot.Counsellor{Name: "olga", Langs: []string{"en"}, Capacity: 2}
	if _, err := f.desk.View(ctx, olga, code); !errors.Is(err, bot.ErrNotYours) {
		t.Fatalf("another counsellor opens the case: %v", err)
	}
	if err := f.desk.Reply(ctx, olga, code, "hi", "x"); !errors.Is(err, bot.ErrNotYours) {
		t.Fatalf("another counsellor answers: %v", err)
	}
	if err := f.desk.End(ctx, olga, code, "silent", ""); !errors.Is(err, bot.ErrNotYours) {
		t.Fatalf("another counsellor ends: %v", err)
	}
	boss := bot.Counsellor{Name: "boss", Supervisor: true}
	if v, err := f.desk.View(ctx, boss, code); err != nil || v.Mine {
		t.Fatalf("a supervisor reads: %+v %v", v, err)
	}
	if err := f.desk.Reply(ctx, boss, code, "hi", "y"); !errors.Is(err, bot.ErrNotYours) {
		t.Fatalf("a supervisor writes into another's case: %v", err)
	}
	// Passed back to the queue, the person waits again and the bot talks.
	if err := f.desk.Transfer(ctx, anna, code, nil); err != nil {
		t.Fatal(err)
	}
	f.received(p.addr, f.en("queue.transferred"))
	if err := f.desk.Claim(ctx, olga, code); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.Reply(ctx, olga, code, "Olga here.", "z"); err != nil {
		t.Fatal(err)
	}
	f.received(p.addr, "Olga here.")
}

func TestWaitingPersonCancels(t *testing.T) {
	ctx := context.Background()
	f := setupCases(t, caseOptions{})
	p := &person{f: f, addr: "tok-cancel"}
	p.askForCounsellor()
	code := f.waiting(1)[0].Code
	p.say("Cancel")
	f.received(p.addr, f.en("queue.cancelled"))
	f.waiting(0)
	if c, _ := f.st.Case(ctx, code); c.State != bot.Closed || c.Wrap != "cancelled" {
		t.Fatalf("cancelled case %+v", c)
	}
	if err := f.desk.Claim(ctx, anna, code); !errors.Is(err, bot.ErrTaken) {
		t.Fatalf("claim of a cancelled case: %v", err)
	}
}

func TestOutOfHoursNoCase(t *testing.T) {
	ctx := context.Background()
	f := setupCases(t, caseOptions{open: func(time.Time) bool { return false }})
	p := &person{f: f, addr: "tok-closed"}
	p.askForCounsellor()
	f.received(p.addr, f.en("queue.closed"))
	if s := f.session(p.pid()); s.Case != (bot.OpenCase{}) {
		t.Fatalf("a case was opened out of hours: %+v", s.Case)
	}
	if ws, _ := f.st.Waiting(ctx); len(ws) != 0 {
		t.Fatalf("queued out of hours: %v", ws)
	}
}

// TestPlaceNotices: a second person is told their place.
func TestPlaceNotices(t *testing.T) {
	f := setupCases(t, caseOptions{})
	a := &person{f: f, addr: "tok-a"}
	a.askForCounsellor()
	f.waiting(1)
	b := &person{f: f, addr: "tok-b"}
	b.askForCounsellor()
	f.waiting(2)
	f.received(b.addr, "You are number 2 in the queue")
}

// TestUnclaimedMessageOnce: a case nobody claims gets the honest message
// once, and keep waiting keeps the place.
func TestUnclaimedMessageOnce(t *testing.T) {
	ctx := context.Background()
	g := setupCases(t, caseOptions{unclaimed: time.Nanosecond})
	c := &person{f: g, addr: "tok-c"}
	c.askForCounsellor()
	g.waiting(1)
	for range 2 {
		if err := g.ticker.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	g.received(c.addr, g.en("queue.unclaimed"))
	if n := g.count(c.addr, g.en("queue.unclaimed")); n != 1 {
		t.Fatalf("the unclaimed message was sent %d times", n)
	}
	c.tap(flow.KeepChoice)
	g.received(c.addr, g.en("queue.kept"))
	g.waiting(1)
}

// TestEraseForgetsTheCase: a person who asks to be forgotten while a
// counsellor holds their case leaves no key and no queue record.
func TestEraseForgetsTheCase(t *testing.T) {
	ctx := context.Background()
	f := setupCases(t, caseOptions{})
	p := &person{f: f, addr: "tok-erase"}
	p.askForCounsellor()
	code := f.waiting(1)[0].Code
	f.desk.Claim(ctx, anna, code)
	p.say("my name is secret")
	p.say("forget me")
	waitFor(t, "the case forgotten", func() bool {
		_, err := f.st.Case(ctx, code)
		return errors.Is(err, bot.ErrNoCase)
	})
	if n, _ := f.st.PersonKeys(ctx, p.pid(), code); n != 0 {
		t.Fatalf("%d keys of the person left", n)
	}
	if held, _ := f.st.HeldBy(ctx, "anna"); len(held) != 0 {
		t.Fatalf("anna still holds %v", held)
	}
	if _, err := f.desk.View(ctx, anna, code); !errors.Is(err, bot.ErrNoCase) {
		t.Fatalf("view of a forgotten case: %v", err)
	}
}

// TestNothingAWaitingOrHeldPersonWritesIsLost: what a person writes while
// waiting reaches the case (and the bot answers with no menu); once a
// counsellor holds the case, every message reaches the transcript in order
// and the bot says nothing; danger words, waiting or held, make the case
// urgent and the counsellor sees why.
func TestNothingAWaitingOrHeldPersonWritesIsLost(t *testing.T) {
	ctx := context.Background()
	f := setupCases(t, caseOptions{})
	p := &person{f: f, addr: "tok-wait"}
	p.askForCounsellor()
	code := f.waiting(1)[0].Code
	f.received(p.addr, "You are number 1 in the queue")
	menus := f.count(p.addr, f.en("menu.question"))
	p.say("I can write until six tonight")
	f.received(p.addr, f.en("queue.noted"))
	p.say("he has the keys")
	if n := f.count(p.addr, f.en("menu.question")); n != menus {
		t.Fatalf("a waiting person's words were answered with the menu")
	}
	if s := f.session(p.pid()); s.Case.State != bot.Waiting || s.Case.Code != code {
		t.Fatalf("writing while waiting changed the case: %+v", s.Case)
	}
	p.say("they locked me in")
	waitFor(t, "an urgent case", func() bool {
		c, _ := f.st.Case(ctx, code)
		return c.Priority == 2
	})
	f.received(p.addr, f.en("queue.urgent"))

	if err := f.desk.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	f.received(p.addr, f.en("queue.joined"))
	before := len(f.web.texts())
	p.say("are you there?")
	p.say("I am in the kitchen")
	if got := f.web.texts()[before:]; len(got) != 0 {
		t.Fatalf("the bot answered a held person: %q", got)
	}
	v, err := f.desk.View(ctx, anna, code)
	if err != nil {
		t.Fatal(err)
	}
	var said []string
	alarm := false
	for _, l := range v.Lines {
		if l.Who == "p" {
			said = append(said, l.Text)
		}
		alarm = alarm || (l.Who == "s" && strings.HasPrefix(l.Text, "alarm: danger."))
	}
	want := []string{"I can write until six tonight", "he has the keys", "they locked me in", "are you there?", "I am in the kitchen"}
	if strings.Join(said, "|") != strings.Join(want, "|") {
		t.Fatalf("transcript of the person:\n%q\nwant\n%q", said, want)
	}
	if !alarm {
		t.Fatalf("the counsellor does not see why the case is urgent: %+v", v.Lines)
	}
}

// TestHeldDangerTellsTheCounsellor: danger words while held make the case
// urgent and give the person the guidance, and they stay with the
// counsellor.
func TestHeldDangerTellsTheCounsellor(t *testing.T) {
	ctx := context.Background()
	f := setupCases(t, caseOptions{})
	p := &person{f: f, addr: "tok-held-danger"}
	p.askForCounsellor()
	code := f.waiting(1)[0].Code
	if err := f.desk.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	p.say("he is hitting me")
	waitFor(t, "an urgent case", func() bool {
		c, _ := f.st.Case(ctx, code)
		return c.Priority == 2 && slices.Contains(c.Flags, "danger")
	})
	f.received(p.addr, "112")
	if s := f.session(p.pid()); s.Case.State != bot.Held {
		t.Fatalf("danger words took the person away from the counsellor: %+v", s.Case)
	}
}

// TestIntakeAnswersAreNotStoredInClear: what a person answered in the
// intake (their age, their own words) is nowhere in Redis in clear, and
// the session no longer holds it once it is on the sealed card.
func TestIntakeAnswersAreNotStoredInClear(t *testing.T) {
	ctx := context.Background()
	f := setupCases(t, caseOptions{})
	p := &person{f: f, addr: "tok-intake"}
	for _, text := range []string{"hi", "1", "1", "counsellor", "1", "1", "16", "2", "1", "17", "1", "my boss keeps the keys to the flat"} {
		p.say(text)
	}
	code := f.waiting(1)[0].Code
	rdb := server.Client()
	defer rdb.Close()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		dump, _ := rdb.Dump(ctx, k).Result()
		for _, secret := range []string{"boss keeps the keys", "safe_now", "help_wanted"} {
			if strings.Contains(dump, secret) {
				t.Errorf("%s holds %q in clear", k, secret)
			}
		}
	}
	if s := f.session(p.pid()); s.Vars["note"] != "" || s.Vars["age"] != "" {
		t.Fatalf("the session keeps the intake once it is on the card: %v", s.Vars)
	}
	v, err := f.desk.View(ctx, bot.Counsellor{Name: "anna", Langs: []string{"en"}, Capacity: 2, Supervisor: true}, code)
	if err != nil || v.Card["note"] != "my boss keeps the keys to the flat" || v.Card["age"] != "17" {
		t.Fatalf("the card: %+v %v", v.Card, err)
	}
}
