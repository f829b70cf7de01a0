package twilio

import "strings"

// Message IDs the channel reads from the locales.
const (
	// msgStop lists a language's STOP keywords, |-separated.
	msgStop = "words.stop"
	// msgStart lists the keywords of the start command: after a STOP they
	// also let messages through again.
	msgStart = "words.start"
	// msgNeutral is the neutral first reply.
	msgNeutral = "sms.neutral"
)

// Twilio's own opt-out and opt-in keywords, which it acts on for long codes
// whatever we do: the helpline honours them on every number.
var (
	twilioStop  = []string{"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
	twilioStart = []string{"start", "unstop", "yes"}
)

// keyword is what a whole message says about sending to its author.
type keyword uint8

const (
	noKeyword keyword = iota
	stopKeyword
	startKeyword
)

// keywords recognises STOP and START in every language, as whole messages
// matched the way the conversation matches its commands.
type keywords struct {
	normalize func(string) string
	words     map[string]keyword
}

func newKeywords(w Words, normalize func(string) string) *keywords {
	k := &keywords{normalize: normalize, words: map[string]keyword{}}
	k.add(twilioStart, startKeyword)
	for _, l := range w.Languages() {
		k.addMessage(w, l, msgStart, startKeyword)
	}
	// STOP last: a word listed both ways stops, which is the safe reading.
	k.add(twilioStop, stopKeyword)
	for _, l := range w.Languages() {
		k.addMessage(w, l, msgStop, stopKeyword)
	}
	return k
}

func (k *keywords) addMessage(w Words, lang, id string, kind keyword) {
	if !w.Has(lang, id) {
		return
	}
	text, _ := w.Text(lang, id, nil, nil)
	k.add(strings.Split(text, "|"), kind)
}

func (k *keywords) add(words []string, kind keyword) {
	for _, w := range words {
		if n := k.normalize(w); n != "" {
			k.words[n] = kind
		}
	}
}

// kind says whether a message is a STOP or a START keyword. optOutType is
// Twilio's own reading of it (the OptOutType field), which wins.
func (k *keywords) kind(text, optOutType string) keyword {
	switch strings.ToUpper(optOutType) {
	case "STOP":
		return stopKeyword
	case "START":
		return startKeyword
	}
	if text == "" || len(text) > 64 {
		return noKeyword
	}
	return k.words[k.normalize(text)]
}
