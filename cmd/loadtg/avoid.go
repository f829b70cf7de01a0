package main

import (
	"slices"
	"strings"

	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/flows"
)

// avoided are the buttons the simulated people never tap, found in the
// shipped flows (flow.Set.ChoicesReaching): those that lead to a
// counsellor's queue, where a message may get no reply and notices come
// unasked, or that erase the person. The stateless bots the helpline is
// measured against never hold anyone in a queue; a user held there would
// wait for a reply that does not come.
var avoided, alarmFlows = func() (map[string]bool, []string) {
	set, err := flow.Load(flows.FS())
	if err != nil {
		panic("loadtg: the shipped flows do not load: " + err.Error())
	}
	out := map[string]bool{}
	for _, id := range set.ChoicesReaching(func(n *flow.Node) bool { return n.Handoff != nil || n.Erase }) {
		out[id] = true
	}
	return out, set.AlarmFlows()
}()

// safeMoves splits a reply's buttons into those a user may tap, and says
// what it may type: texts, or only the command "menu" when one of the
// buttons is avoided, since a typed word may answer that question as the
// button would. With noAlarms, the buttons of the flows that answer danger
// and self-harm are avoided too: their replies are sent late rather than
// never after a crash (runner.DeliveryOptions.Urgent), so the chaos
// accounting would count each as a duplicate that no kill forced.
func safeMoves(buttons, texts []string, noAlarms bool) (taps, typed []string) {
	typed = texts
	for _, b := range buttons {
		flowID, _, _ := strings.Cut(b, "/") // flow.ChoiceID: flow/node/key
		if avoided[b] || noAlarms && slices.Contains(alarmFlows, flowID) {
			typed = []string{"menu"}
			continue
		}
		taps = append(taps, b)
	}
	return taps, typed
}
