package runner

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/store"
)

// op is a queue operation: what the counsellor queue must learn of a step.
// It travels in the person's outbox partition, committed with the step, and
// Queue.Apply carries it out at least once; every operation is idempotent.
type op struct {
	Op       string       `json:"op"` // open, raise, relay, close, forget, place
	Code     string       `json:"code"`
	Lang     string       `json:"lang,omitempty"`
	Channel  bot.Channel  `json:"ch,omitempty"`
	Priority bot.Priority `json:"pr,omitempty"`
	Topic    string       `json:"tp,omitempty"`
	Flags    []string     `json:"fl,omitempty"`
	Created  int64        `json:"ct,omitempty"` // Unix ms
	Wrap     string       `json:"wr,omitempty"`
}

// caseChange is what one step does to the person's case beyond the
// session: the case keys it writes, the queue operations and the counters.
type caseChange struct {
	write  *store.CaseWrite
	ops    []op
	counts []string
}

func (ch *caseChange) on(code string) *store.CaseWrite {
	if ch.write == nil {
		ch.write = &store.CaseWrite{Code: code}
	}
	return ch.write
}

// apply adds the change to a commit.
func (ch caseChange) apply(c *store.Commit) error {
	if c.Session != nil {
		c.Case = ch.write
	}
	c.Counts = append(c.Counts, ch.counts...)
	for _, o := range ch.ops {
		b, err := json.Marshal(o)
		if err != nil {
			return fmt.Errorf("encode queue operation: %w", err)
		}
		c.Out = append(c.Out, store.Entry{Op: b})
	}
	return nil
}

// planner turns the case effects of one step into a case change. It does
// no I/O but reserve, which finds a free case code.
type planner struct {
	keys                *secret.Keys
	pid                 string
	sessionTTL, caseTTL time.Duration
	reserve             func() (string, error)
}

// plan reads the effects of a step from before to next. A new case gets
// its code here, in next.
func (p planner) plan(rec store.Record, in bot.Inbound, before bot.Session, next *bot.Session, effects []bot.Effect, now time.Time) (caseChange, error) {
	var ch caseChange
	code := before.Case.Code
	for _, e := range effects {
		switch e.Kind {
		case bot.Erase:
			if code != "" {
				return caseChange{ops: []op{{Op: "forget", Code: code}}}, nil
			}
			return caseChange{}, nil
		case bot.Handoff:
			if code != "" {
				p.raise(&ch, code, e.Priority, e.Flags, e.Card)
				continue
			}
			c, err := p.reserve()
			if err != nil {
				return ch, err
			}
			code, next.Case.Code = c, c
			p.open(&ch, rec, in.Channel, next.Lang, code, e, now)
		case bot.Alert:
			if code != "" {
				kind, _, _ := strings.Cut(e.Name, ".")
				flag := kind
				if kind == "answer" {
					flag = strings.TrimPrefix(e.Name, "answer.")
				}
				p.raise(&ch, code, bot.Urgent, []string{flag}, nil)
				p.line(&ch, code, "s", "alarm: "+e.Name)
				ch.counts = append(ch.counts, "case.alert")
			}
		case bot.Relay:
			if code == "" {
				continue
			}
			switch {
			case e.Name == "unsupported":
				p.line(&ch, code, "p", unsupportedLine)
			case e.Name != "":
				p.line(&ch, code, "s", "the person used "+e.Name)
			default:
				p.line(&ch, code, "p", e.Text)
			}
			ch.ops = append(ch.ops, op{Op: "relay", Code: code})
		case bot.Cancel:
			w := ch.on(code)
			w.TTL = p.caseTTL
			p.line(&ch, code, "s", "cancelled by the person")
			ch.ops = append(ch.ops, op{Op: "close", Code: code, Wrap: bot.LeftCancelled})
			ch.counts = append(ch.counts, "case.cancelled")
		case bot.Place:
			if code != "" {
				ch.ops = append(ch.ops, op{Op: "place", Code: code})
			}
		}
	}
	return ch, nil
}

// unsupportedLine stands in the transcript for a photo, a voice note or
// anything else the bot cannot read.
const unsupportedLine = "\x00unsupported"

// act adds what a counsellor's action writes to the case.
func (ch *caseChange) act(p planner, a Action) {
	w := ch.on(a.Code)
	if w.TTL == 0 {
		w.TTL = p.sessionTTL
	}
	if a.Event == bot.Ended {
		w.TTL = p.caseTTL
	}
	if a.Line != "" {
		p.line(ch, a.Code, a.Who, a.Line)
	}
	w.Fields = append(w.Fields, a.Fields...)
	ch.counts = append(ch.counts, a.Counts...)
}

// line adds a sealed line to the transcript.
func (p planner) line(ch *caseChange, code, who, text string) {
	w := ch.on(code)
	w.Lines = append(w.Lines, store.Line{Who: who, Sealed: p.keys.Seal([]byte(text), p.pid)})
	if w.TTL == 0 {
		w.TTL = p.sessionTTL
	}
}

// open starts a new case: the sealed card, the code among the person's
// kept cases, and the operation that queues it.
func (p planner) open(ch *caseChange, rec store.Record, channel bot.Channel, lang, code string, e bot.Effect, now time.Time) {
	card, _ := json.Marshal(e.Card)
	w := ch.on(code)
	w.Kept = append(slices.DeleteFunc(slices.Clone(rec.Kept), func(c string) bool { return c == code }), code)
	if len(w.Kept) > 8 {
		w.Kept = w.Kept[len(w.Kept)-8:] // older cases' keys have long expired
	}
	w.Fields = []string{"card", string(p.keys.Seal(card, p.pid))}
	w.TTL = p.sessionTTL
	ch.ops = append(ch.ops, op{Op: "open", Code: code, Lang: lang, Channel: channel, Priority: e.Priority,
		Topic: e.Topic, Flags: e.Flags, Created: now.UnixMilli()})
	ch.counts = append(ch.counts, "case.open", "case.lang."+lang, "case.topic."+e.Topic, "case.priority."+e.Priority.String())
}

// raise lifts an open case: a second handoff with a new card, or an alarm.
// An empty card (the answers were on the first) leaves the card as it is.
func (p planner) raise(ch *caseChange, code string, pr bot.Priority, flags []string, card map[string]string) {
	if len(card) > 0 {
		b, _ := json.Marshal(card)
		w := ch.on(code)
		w.Fields = append(w.Fields, "card", string(p.keys.Seal(b, p.pid)))
		w.TTL = p.sessionTTL
	}
	ch.ops = append(ch.ops, op{Op: "raise", Code: code, Priority: pr, Flags: flags})
}

// codeAlphabet has no letters or digits that sound or look alike (no 0/O,
// 1/I/L, 2/Z, 5/S, 8/B, G, Q).
const codeAlphabet = "ACDEFHJKMNPRTUVWXY34679"

// newCode makes a case code that is easy to read aloud: "KRA-947".
func newCode() string {
	b := make([]byte, 6)
	rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b[:3]) + "-" + string(b[3:])
}
