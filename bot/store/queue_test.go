package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/store"
)

func enqueue(t *testing.T, st *store.Store, code, lang string, priority bot.Priority, created time.Time) {
	t.Helper()
	ok, err := st.Enqueue(context.Background(), bot.Case{
		Code: code, PID: "pid-" + code, Lang: lang, Channel: "web", Priority: priority, Topic: "counsellor", Created: created,
	})
	if err != nil || !ok {
		t.Fatalf("enqueue %s: %v %v", code, ok, err)
	}
}

func codes(cs []bot.Case) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Code
	}
	return out
}

func TestQueueOrderIsPriorityThenWaitingTime(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{})
	enqueue(t, st, "N-OLD", "en", 0, now.Add(-30*time.Minute))
	enqueue(t, st, "H-NEW", "en", 1, now.Add(-1*time.Minute))
	enqueue(t, st, "U-NEW", "en", 2, now.Add(-10*time.Second))
	enqueue(t, st, "U-OLD", "en", 2, now.Add(-5*time.Minute))
	enqueue(t, st, "N-NEW", "en", 0, now)
	w, err := st.Waiting(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(codes(w)), "[U-OLD U-NEW H-NEW N-OLD N-NEW]"; got != want {
		t.Fatalf("order %s, want %s", got, want)
	}
	// Danger words in a normal case raise it above the high one, keeping
	// its age; a raise never lowers.
	if err := st.Raise(ctx, "N-NEW", 2, []string{"danger"}); err != nil {
		t.Fatal(err)
	}
	st.Raise(ctx, "U-OLD", 0, nil)
	w, _ = st.Waiting(ctx)
	if got, want := fmt.Sprint(codes(w)), "[U-OLD U-NEW N-NEW H-NEW N-OLD]"; got != want {
		t.Fatalf("order after raise %s, want %s", got, want)
	}
	if w[2].Flags[0] != "danger" || w[2].Priority != 2 {
		t.Fatalf("the raised case: %+v", w[2])
	}
	// Enqueueing again (a redelivered outbox entry) changes nothing.
	if ok, _ := st.Enqueue(ctx, bot.Case{Code: "N-NEW", PID: "pid-N-NEW", Lang: "en", Created: now}); ok {
		t.Fatal("a second enqueue of one case was applied")
	}
}

func TestClaimRoutesByLanguageThenFallsBack(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{})
	enqueue(t, st, "RU-1", "ru", 0, now.Add(-2*time.Minute))
	interp := 10 * time.Minute
	if err := st.Claim(ctx, "RU-1", "anna", []string{"en", "et"}, 3, interp, now); !errors.Is(err, bot.ErrLanguage) {
		t.Fatalf("an English and Estonian counsellor claims a fresh Russian case: %v, want ErrLanguage", err)
	}
	// After the interpreter time anyone may take it.
	if err := st.Claim(ctx, "RU-1", "anna", []string{"en", "et"}, 3, interp, now.Add(9*time.Minute)); err != nil {
		t.Fatalf("claim after the interpreter time: %v", err)
	}
	c, _ := st.Case(ctx, "RU-1")
	if c.State != bot.WithCounsellor || c.Counsellor != "anna" {
		t.Fatalf("claimed case: %+v", c)
	}
	enqueue(t, st, "RU-2", "ru", 0, now)
	if err := st.Claim(ctx, "RU-2", "olga", []string{"ru"}, 3, interp, now); err != nil {
		t.Fatalf("a Russian counsellor claims a Russian case: %v", err)
	}
	if avg, ok, _ := st.AverageWait(ctx); !ok || avg <= 0 {
		t.Fatalf("average wait %v %v", avg, ok)
	}
}

func TestConcurrentClaimsOneWins(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{})
	for round := range 20 {
		code := fmt.Sprint("C-", round)
		enqueue(t, st, code, "en", 1, now)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				err := st.Claim(ctx, code, fmt.Sprint("c", i), []string{"en"}, 5, time.Hour, now)
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, bot.ErrTaken):
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("round %d: %d claims won, want 1", round, wins.Load())
		}
		c, _ := st.Case(ctx, code)
		held, _ := st.HeldBy(ctx, c.Counsellor)
		if len(held) != 1 || held[0].Code != code {
			t.Fatalf("the winner %s holds %v", c.Counsellor, codes(held))
		}
		st.Finish(ctx, code, c.Counsellor, "silent", now)
	}
}

func TestCapacityTransferAndFinish(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{CaseTTL: time.Hour})
	for _, code := range []string{"A", "B", "C"} {
		enqueue(t, st, code, "en", 0, now)
	}
	st.Claim(ctx, "A", "anna", []string{"en"}, 2, time.Hour, now)
	st.Claim(ctx, "B", "anna", []string{"en"}, 2, time.Hour, now)
	if err := st.Claim(ctx, "C", "anna", []string{"en"}, 2, time.Hour, now); !errors.Is(err, bot.ErrFull) {
		t.Fatalf("a third case at capacity 2: %v, want ErrFull", err)
	}
	if err := st.Transfer(ctx, "A", "olga", "", 2); !errors.Is(err, bot.ErrNotYours) {
		t.Fatalf("transfer of another's case: %v", err)
	}
	if err := st.Transfer(ctx, "A", "anna", "", 2); err != nil {
		t.Fatal(err)
	}
	w, _ := st.Waiting(ctx)
	if fmt.Sprint(codes(w)) != "[A C]" {
		t.Fatalf("after a transfer back the case waits in its old place: %v", codes(w))
	}
	if err := st.Claim(ctx, "C", "anna", []string{"en"}, 2, time.Hour, now); err != nil {
		t.Fatalf("with room again: %v", err)
	}
	st.Claim(ctx, "A", "olga", []string{"en"}, 1, time.Hour, now)
	if err := st.Transfer(ctx, "B", "anna", "olga", 1); !errors.Is(err, bot.ErrFull) {
		t.Fatalf("transfer to a full counsellor: %v", err)
	}
	if err := st.Transfer(ctx, "B", "anna", "ivan", 1); err != nil {
		t.Fatal(err)
	}
	if c, _ := st.Case(ctx, "B"); c.Counsellor != "ivan" || !c.Transferred {
		t.Fatalf("transferred case: %+v", c)
	}
	if err := st.Finish(ctx, "B", "anna", "legal", now); !errors.Is(err, bot.ErrNotYours) {
		t.Fatalf("finish of a passed-on case: %v", err)
	}
	if err := st.Finish(ctx, "B", "ivan", "legal", now); err != nil {
		t.Fatal(err)
	}
	active, _ := st.Active(ctx)
	if fmt.Sprint(codes(active)) != "[A C]" && fmt.Sprint(codes(active)) != "[C A]" {
		t.Fatalf("active after finish: %v", codes(active))
	}
	c, _ := st.Case(ctx, "B")
	if c.State != bot.Closed || c.Wrap != "legal" {
		t.Fatalf("ended case %+v", c)
	}
}

func TestNoticesAndTimeoutAreTakenOnce(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{})
	enqueue(t, st, "W", "en", 0, now)
	if ok, _ := st.TakeNotice(ctx, "W", 3, time.Minute, now); !ok {
		t.Fatal("the first notice")
	}
	if ok, _ := st.TakeNotice(ctx, "W", 2, time.Minute, now.Add(30*time.Second)); ok {
		t.Fatal("a second notice within a minute")
	}
	if ok, _ := st.TakeNotice(ctx, "W", 3, time.Minute, now.Add(2*time.Minute)); ok {
		t.Fatal("a notice of an unchanged place")
	}
	if ok, _ := st.TakeNotice(ctx, "W", 2, time.Minute, now.Add(2*time.Minute)); !ok {
		t.Fatal("a changed place after a minute")
	}
	a, _ := st.TakeTimeout(ctx, "W")
	b, _ := st.TakeTimeout(ctx, "W")
	if !a || b {
		t.Fatalf("timeout taken %v then %v, want true then false", a, b)
	}
}

// TestCaseKeysExpireAfterTheCaseEnds commits a case's lines like the
// dispatcher does and checks their lifetimes: the session's while open,
// CaseTTL once ended, and nothing left after an erase.
func TestCaseKeysExpireAfterTheCaseEnds(t *testing.T) {
	ctx := context.Background()
	st, rdb := newStore(t, store.Options{SessionTTL: 48 * time.Hour, CaseTTL: time.Hour})
	c := commit("p1", "m1", 0, "s")
	c.Case = &store.CaseWrite{Code: "K7", Kept: []string{"K7"}, Fields: []string{"lang", "en"}, Lines: []store.Line{{Who: "p", Sealed: []byte("sealed")}}, TTL: 48 * time.Hour}
	if got, err := st.Commit(ctx, c); got != store.Committed || err != nil {
		t.Fatal(got, err)
	}
	rec, _ := st.Load(ctx, "p1")
	if fmt.Sprint(rec.Kept) != "[K7]" {
		t.Fatalf("record %+v", rec)
	}
	pc, err := st.PersonCase(ctx, "p1", "K7")
	if err != nil || pc.Fields["lang"] != "en" || len(pc.Lines) != 1 || string(pc.Lines[0].Sealed) != "sealed" {
		t.Fatalf("person case %+v %v", pc, err)
	}
	keys, _ := rdb.Keys(ctx, t.Name()+"*p1:K7").Result()
	if len(keys) != 2 {
		t.Fatalf("case keys %v", keys)
	}
	for _, k := range keys {
		if ttl := rdb.TTL(ctx, k).Val(); ttl < 47*time.Hour {
			t.Fatalf("%s lives %v while open", k, ttl)
		}
	}
	end := commit("p1", "m2", 1, "s")
	end.Case = &store.CaseWrite{Code: "K7", Fields: []string{"wr", "legal"}, TTL: time.Hour}
	st.Commit(ctx, end)
	for _, k := range keys {
		if ttl := rdb.TTL(ctx, k).Val(); ttl <= 0 || ttl > time.Hour {
			t.Fatalf("%s lives %v after the end, want an hour", k, ttl)
		}
	}
	erase := commit("p1", "m3", 2, "")
	erase.Session, erase.Kept = nil, []string{"K7"}
	st.Commit(ctx, erase)
	if n, _ := st.PersonKeys(ctx, "p1", "K7"); n != 0 {
		t.Fatalf("after erase %d keys of the person are left", n)
	}
}
