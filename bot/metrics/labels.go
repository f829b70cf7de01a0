package metrics

import (
	"strings"

	"github.com/helpline/helpline/bot"
)

// The closed sets of label values, and the index of a value in its set.
// Each index function is a switch, so that a hot path's lookup costs a few
// comparisons and nothing else.

// channelNames are the channel label's values: the channels, "case" for
// the queue operations of the outbox, and "other".
var channelNames = [...]string{string(bot.Telegram), string(bot.SMS), string(bot.WhatsApp), string(bot.Web), "case", "other"}

const numChannels = len(channelNames)

func channelIndex(ch string) int {
	switch ch {
	case string(bot.Telegram):
		return 0
	case string(bot.SMS):
		return 1
	case string(bot.WhatsApp):
		return 2
	case string(bot.Web):
		return 3
	case "": // a queue operation has no channel
		return 4
	}
	return numChannels - 1
}

// outcomeNames are the outcomes of one try to send (runner.SendSent and
// the others).
var outcomeNames = [...]string{"sent", "retry", "failed"}

const numOutcomes = len(outcomeNames)

func outcomeIndex(outcome string) int {
	switch outcome {
	case "sent":
		return 0
	case "failed":
		return 2
	}
	return 1
}

// reasonNames are the reasons delivery drops an entry for, without the
// "send." of their counter names, and "other".
var reasonNames = [...]string{"permanent", "gave_up", "no_channel", "no_queue", "unsealable", "undecodable", "other"}

const numReasons = len(reasonNames)

func reasonIndex(reason string) int {
	name := strings.TrimPrefix(reason, "send.")
	for i, r := range reasonNames[:numReasons-1] {
		if r == name {
			return i
		}
	}
	return numReasons - 1
}

// kindNames are the kinds of alert: the safety net's two, an answer that
// raised it, and "other".
var kindNames = [...]string{"danger", "selfharm", "answer", "other"}

const numKinds = len(kindNames)

func kindIndex(kind string) int {
	switch kind {
	case "danger":
		return 0
	case "selfharm":
		return 1
	case "answer":
		return 2
	}
	return numKinds - 1
}

// labels is a closed set of values known only at run time, such as the
// configured languages: the values, then one for the empty value and one
// for any other.
type labels struct {
	names []string
	index func(string) int
}

func newLabels(values []string, empty, other string) labels {
	l := labels{names: append(append([]string(nil), values...), empty, other)}
	known := make(map[string]int, len(values))
	for i, v := range values {
		known[v] = i
	}
	none, rest := len(values), len(values)+1
	l.index = func(v string) int {
		if v == "" {
			return none
		}
		if i, ok := known[v]; ok {
			return i
		}
		return rest
	}
	return l
}
