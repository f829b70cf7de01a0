package telegram_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/telegram/telegramtest"
	"github.com/helpline/helpline/flows"
)

// chatSteps is how many updates each person of BenchmarkPersonBytes sends.
const chatSteps = 20

// cohort is how many people BenchmarkPersonBytes plays at once. Their
// updates interleave, as many people's do on a live bot, so the update and
// message IDs of one person are not consecutive.
const cohort = 128

// BenchmarkPersonBytes reports how much Redis memory one Telegram person
// holds right after a 20-step chat, by key: the session, the trail kept for
// clear chat, the person's share of the partition's marks of updates seen,
// and anything else stored under the person's ID. The store has the
// default 16 partitions; a first cohort fills the marks before anything is
// measured, so that a partition's marks are as large as on a live bot (the
// cost of one more mark, not of the first). Every figure is MEMORY USAGE
// with every element counted (SAMPLES 0).
func BenchmarkPersonBytes(b *testing.B) {
	h := newHarness(b, setup{partitions: 16})
	next := int64(770000)
	play := func() []*telegramtest.Person {
		people := make([]*telegramtest.Person, cohort)
		for i := range people {
			next++
			people[i] = h.person(next, "en")
		}
		for step := range chatSteps {
			for _, p := range people {
				converse(p, step)
			}
		}
		h.outboxEmpty()
		time.Sleep(300 * time.Millisecond) // the trail writes off the hot path
		return people
	}
	marks := func() int64 {
		var n int64
		for _, k := range h.keysLike(h.prefix + ":{*}:dd*") {
			n += h.memory(k)
		}
		return n
	}
	play() // fill the partitions' marks
	var session, trail, seen, other, people float64
	for range b.N {
		before := marks()
		cohortPeople := play()
		seen += float64(marks() - before)
		for _, p := range cohortPeople {
			pid := h.pid(p.Chat)
			for _, k := range h.personKeys(p.Chat) {
				n := float64(h.memory(k))
				switch {
				case strings.HasSuffix(k, ":s:"+pid):
					session += n
				case strings.HasSuffix(k, ":n:"+pid):
					trail += n
				default:
					other += n
				}
			}
		}
		people += cohort
	}
	b.ReportMetric(session/people, "session-B/person")
	b.ReportMetric(trail/people, "trail-B/person")
	b.ReportMetric(seen/people, "marks-B/person")
	b.ReportMetric(other/people, "other-B/person")
	b.ReportMetric((session+trail+seen+other)/people, "B/person")
}

// converse is step of a person's chat, in English: the first says /start,
// then the person mostly taps the buttons of the last reply, in turn, and
// now and then types. They stay with the information flows: no counsellor,
// no other language, no erase.
func converse(p *telegramtest.Person, step int) {
	if step == 0 {
		p.Say("/start")
		return
	}
	var taps []string
	for _, b := range p.Last.Buttons {
		if b.Data == "welcome/choose_language/en" {
			taps = []string{b.Text}
			break
		}
		if !strings.ContainsAny(b.Data, "/") || strings.Contains(b.Data, "choose_language") ||
			strings.Contains(b.Data, "counsellor") || slices.Contains(avoid, b.Data) {
			continue
		}
		taps = append(taps, b.Text)
	}
	if step%5 == 4 || len(taps) == 0 {
		p.Say([]string{"hello", "menu", "what are my rights", "thank you"}[step/5%4])
		return
	}
	p.Tap(taps[step%len(taps)])
}

// avoid are the buttons converse does not tap because they lead to a
// counsellor or an erase, found in the shipped flows.
var avoid = func() []string {
	set, err := flow.Load(flows.FS())
	if err != nil {
		panic("the shipped flows do not load: " + err.Error())
	}
	return set.ChoicesReaching(func(n *flow.Node) bool { return n.Handoff != nil || n.Erase })
}()

// keysLike returns the keys that match pattern.
func (h *harness) keysLike(pattern string) []string {
	h.t.Helper()
	keys, err := h.rdb.Keys(context.Background(), pattern).Result()
	if err != nil {
		h.t.Fatal(err)
	}
	return keys
}

// memory is the MEMORY USAGE of key, every element counted.
func (h *harness) memory(key string) int64 {
	h.t.Helper()
	n, err := h.rdb.MemoryUsage(context.Background(), key, 0).Result()
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}
