package store_test

import (
	"context"
	"testing"

	"github.com/helpline/helpline/bot/store"
)

// TestStanding follows a person through a session, a stop mark and an
// erase: the mark outlives the erase, the session does not.
func TestStanding(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, store.Options{})
	check := func(when string, wantStopped, wantSession bool) {
		t.Helper()
		stopped, session, err := st.Standing(ctx, "p1")
		if err != nil || stopped != wantStopped || session != wantSession {
			t.Fatalf("%s: stopped %v, session %v, %v", when, stopped, session, err)
		}
	}
	check("a stranger", false, false)
	if _, err := st.Commit(ctx, commit("p1", "m1", 0, "s1")); err != nil {
		t.Fatal(err)
	}
	check("after a message", false, true)
	if err := st.SetStopped(ctx, "p1", true); err != nil {
		t.Fatal(err)
	}
	erase := commit("p1", "m2", 1, "")
	erase.Session = nil
	if _, err := st.Commit(ctx, erase); err != nil {
		t.Fatal(err)
	}
	check("after STOP and an erase", true, false)
}
