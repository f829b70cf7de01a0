package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestChaos is the short form of loadtg -chaos: 20 users, 3 kill -9s of the
// helpline in each Telegram mode, then Redis shut down and restarted,
// killed, and paused. Nothing committed may be lost, no edit may put an old
// message back, duplicates stay at or under the number of kills, and no user
// waits 10s or more for a reply. The helpline is built without the race
// detector: it runs as a real child process, killed for real.
func TestChaos(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed (apt-get install redis-server): the chaos test needs a real Redis")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out strings.Builder
	c := chaosConfig{users: 20, kills: 3, modes: []string{"polling", "webhook"}, control: 2 * time.Second}
	reports := make([]*chaosReport, 0, 2)
	for i, mode := range c.modes {
		c := c
		c.modes = []string{mode}
		// Each Redis fault once, split between the modes.
		c.redisFaults = [][]string{{"restart", "pause"}, {"kill"}}[i]
		r, err := runChaos(ctx, c, &out)
		if err != nil {
			t.Fatalf("%v\n%s", err, &out)
		}
		reports = append(reports, r...)
	}
	t.Log("\n" + out.String())
	for _, r := range reports {
		if len(r.faults) < 2 || r.kills != c.kills {
			t.Fatalf("%s: %d faults, %d kills: the run broke off", r.mode, len(r.faults)-1, r.kills)
		}
		if ctl := r.faults[0]; ctl.turns == 0 || ctl.lost+ctl.dups+ctl.reverted > 0 {
			t.Errorf("%s: the control window saw %d turns, %d lost, %d duplicates: the accounting is wrong", r.mode, ctl.turns, ctl.lost, ctl.dups)
		}
		all := r.total()
		if all.turns == 0 {
			t.Errorf("%s: no turn under faults", r.mode)
		}
		if all.lost > 0 {
			t.Errorf("%s: %d replies lost", r.mode, all.lost)
		}
		if all.reverted > 0 {
			t.Errorf("%s: %d edits put an old message back", r.mode, all.reverted)
		}
		if all.dups > r.kills {
			t.Errorf("%s: %d duplicates for %d kills", r.mode, all.dups, r.kills)
		}
		if all.silence >= 10*time.Second {
			t.Errorf("%s: a user waited %s for a reply", r.mode, all.silence)
		}
	}
}
