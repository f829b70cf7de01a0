package runner

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/store"
)

// CaseChannel is the outbox channel of the entries that tell the queue what
// a person's step did to their case. They travel in the person's partition,
// committed with the step, and are applied to the queue at least once.
const CaseChannel bot.Channel = "case"

// The choices a person waiting in the queue is offered.
const (
	ChoiceCancel = "case/cancel"
	ChoiceWait   = "case/wait"
)

// Queue is what the counsellor side needs of the store's queue.
type Queue interface {
	Reserve(ctx context.Context, code, pid string) (bool, error)
	Enqueue(ctx context.Context, c store.QueueCase) (bool, error)
	Raise(ctx context.Context, code string, p int, flags []string) error
	Close(ctx context.Context, code, wrap string, forget bool, now time.Time) error
	Case(ctx context.Context, code string) (store.QueueCase, error)
	Waiting(ctx context.Context) ([]store.QueueCase, error)
	AverageWait(ctx context.Context) (time.Duration, bool, error)
	TakeNotice(ctx context.Context, code string, place int, gap time.Duration, now time.Time) (bool, error)
	TakeTimeout(ctx context.Context, code string) (bool, error)
	Append(ctx context.Context, pid string, address []byte, entries ...store.Entry) error
	NotifyConsole(ctx context.Context, note string) error
	Claim(ctx context.Context, code, counsellor string, langs []string, capacity int, interpreter time.Duration, now time.Time) error
	Transfer(ctx context.Context, code, holder, to string, capacity int) error
	Finish(ctx context.Context, code, holder, wrap string, now time.Time) error
	PersonCase(ctx context.Context, pid, code string) (store.PersonCase, error)
}

// Words renders the messages the queue says on its own.
type Words interface {
	Text(lang, id string, vars map[string]string, count *int) (string, bool)
}

// CaseOptions tune the counsellor queue. Zero values take the defaults.
type CaseOptions struct {
	// Open says whether counsellors are at work; nil means always.
	Open func(time.Time) bool
	// Interpreter is how long a case waits for a counsellor of its
	// language before everyone is offered it. Default 10 minutes.
	Interpreter time.Duration
	// Unclaimed is how long a case waits before the person is told honestly
	// that nobody is free. Default 15 minutes.
	Unclaimed time.Duration
	// NoticeGap is the least time between two notices of a new place in
	// the queue. Default one minute.
	NoticeGap time.Duration
	// Tick is how often waiting cases are looked at. Default 10 seconds.
	Tick time.Duration
	// DefaultWait is the wait per place assumed before any case was
	// claimed. Default 5 minutes.
	DefaultWait time.Duration
	// SessionTTL and CaseTTL are the lifetimes of an open and of an ended
	// case's keys: the store's.
	SessionTTL, CaseTTL time.Duration
}

func (o *CaseOptions) defaults() {
	if o.Interpreter <= 0 {
		o.Interpreter = 10 * time.Minute
	}
	if o.Unclaimed <= 0 {
		o.Unclaimed = 15 * time.Minute
	}
	if o.NoticeGap <= 0 {
		o.NoticeGap = time.Minute
	}
	if o.Tick <= 0 {
		o.Tick = 10 * time.Second
	}
	if o.DefaultWait <= 0 {
		o.DefaultWait = 5 * time.Minute
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 30 * 24 * time.Hour
	}
	if o.CaseTTL <= 0 {
		o.CaseTTL = 7 * 24 * time.Hour
	}
}

// Cases is the counsellor side of the dispatcher: it turns handoffs, relays
// and alerts into case writes committed with the step, applies them to the
// queue (as the sender of CaseChannel), tells waiting people their place,
// and carries out what counsellors do in the console.
type Cases struct {
	d     *Dispatcher
	q     Queue
	words Words
	log   *slog.Logger
	opts  CaseOptions

	mu     sync.Mutex
	cancel map[string]map[string]bool // normalised cancel words, by language
}

// NewCases adds the counsellor queue to d: from now on d opens cases.
func NewCases(d *Dispatcher, q Queue, words Words, opts CaseOptions) *Cases {
	opts.defaults()
	k := &Cases{d: d, q: q, words: words, log: d.log, opts: opts, cancel: map[string]map[string]bool{}}
	d.cases = k
	return k
}

// Options returns the options in force, defaults filled in.
func (k *Cases) Options() CaseOptions { return k.opts }

// parseMark reads the open-case mark: "<code> w" waiting, "<code> h" held.
func parseMark(m string) (code string, held bool) {
	code, state, _ := strings.Cut(m, " ")
	return code, state == "h"
}

func mark(code string, held bool) string {
	if held {
		return code + " h"
	}
	return code + " w"
}

// caseOp is an outbox entry of CaseChannel: what the queue must learn.
type caseOp struct {
	Op      string   `json:"op"` // open, raise, relay, close, forget
	Code    string   `json:"code"`
	Lang    string   `json:"lang,omitempty"`
	Channel string   `json:"ch,omitempty"`
	Prio    int      `json:"pr,omitempty"`
	Topic   string   `json:"tp,omitempty"`
	Flags   []string `json:"fl,omitempty"`
	Created int64    `json:"ct,omitempty"` // Unix ms
	Wrap    string   `json:"wr,omitempty"`
}

// caseChange is what a step does to the person's case, beyond the session.
type caseChange struct {
	write  *store.CaseWrite
	ops    []caseOp
	counts []string
}

// apply adds the change to a commit.
func (ch caseChange) apply(c *store.Commit, rec store.Record, _ bot.Channel) error {
	c.Kept = rec.Kept
	if c.Session != nil {
		c.Case = ch.write
	}
	c.Counts = append(c.Counts, ch.counts...)
	for _, op := range ch.ops {
		b, err := json.Marshal(op)
		if err != nil {
			return fmt.Errorf("encode case entry: %w", err)
		}
		c.Out = append(c.Out, store.Entry{Channel: string(CaseChannel), Reply: b})
	}
	return nil
}

func (ch *caseChange) on(code string) *store.CaseWrite {
	if ch.write == nil {
		ch.write = &store.CaseWrite{Code: code}
	}
	return ch.write
}

// plan turns the case effects of a step into a case change. before is the
// session the step started from; next may be changed (out of hours, the
// person goes to the menu instead), and so may the replies.
func (k *Cases) plan(ctx context.Context, pid string, rec store.Record, in bot.Inbound, before bot.Session, next *bot.Session, replies []bot.Reply, effects []bot.Effect, now time.Time, code *string) ([]bot.Reply, caseChange, error) {
	var ch caseChange
	if k == nil {
		return replies, ch, nil
	}
	open := before.Case
	for _, e := range effects {
		switch e.Kind {
		case bot.Erase:
			if open != "" {
				ch = caseChange{ops: []caseOp{{Op: "forget", Code: open}}}
			}
			return replies, ch, nil
		case bot.Handoff:
			if open != "" {
				k.raise(&ch, pid, open, e.Priority, flagsOf(e), e.Card)
				continue
			}
			if k.opts.Open != nil && !k.opts.Open(now) {
				ch.counts = append(ch.counts, "case.closed")
				r := k.d.menu(next, in.Channel, now, k.text(next.Lang, "queue.closed"))
				return []bot.Reply{r}, ch, nil
			}
			if *code == "" {
				c, err := k.reserve(ctx, pid)
				if err != nil {
					return nil, ch, err
				}
				*code = c
			}
			open = *code
			k.open(&ch, pid, rec, in, next.Lang, open, e, now)
		case bot.Alert:
			if open != "" {
				k.raise(&ch, pid, open, bot.Urgent, []string{"danger"}, nil)
				ch.counts = append(ch.counts, "case.alert")
			}
		case bot.Relay:
			if open != "" && before.Held {
				line := e.Text
				if e.Name == "unsupported" {
					line = "\x00unsupported"
				}
				w := ch.on(open)
				w.Who, w.Line, w.TTL = "p", k.d.keys.Seal([]byte(line), pid), k.opts.SessionTTL
				ch.ops = append(ch.ops, caseOp{Op: "relay", Code: open})
			}
		}
	}
	return replies, ch, nil
}

// open starts a new case: the mark, the sealed card, and the entry that
// queues it.
func (k *Cases) open(ch *caseChange, pid string, rec store.Record, in bot.Inbound, lang, code string, e bot.Effect, now time.Time) {
	card, _ := json.Marshal(e.Card)
	flags := flagsOf(e)
	w := ch.on(code)
	w.Mark = mark(code, false)
	w.Kept = append(slices.DeleteFunc(slices.Clone(rec.Kept), func(c string) bool { return c == code }), code)
	if len(w.Kept) > 8 {
		w.Kept = w.Kept[len(w.Kept)-8:] // older cases' keys have long expired
	}
	w.Fields = []string{"lang", lang, "ch", string(in.Channel), "tp", e.Topic, "pr", strconv.Itoa(int(e.Priority)),
		"ct", strconv.FormatInt(now.Unix(), 10), "card", string(k.d.keys.Seal(card, pid))}
	w.TTL = k.opts.SessionTTL
	ch.ops = append(ch.ops, caseOp{Op: "open", Code: code, Lang: lang, Channel: string(in.Channel), Prio: int(e.Priority),
		Topic: e.Topic, Flags: flags, Created: now.UnixMilli()})
	ch.counts = append(ch.counts, "case.open", "case.lang."+lang, "case.topic."+e.Topic, "case.priority."+e.Priority.String())
}

// raise lifts an open case: a second handoff, or danger words.
func (k *Cases) raise(ch *caseChange, pid, code string, p bot.Priority, flags []string, card map[string]string) {
	if card != nil {
		b, _ := json.Marshal(card)
		w := ch.on(code)
		w.Fields = append(w.Fields, "card", string(k.d.keys.Seal(b, pid)))
		w.TTL = k.opts.SessionTTL
	}
	ch.ops = append(ch.ops, caseOp{Op: "raise", Code: code, Prio: int(p), Flags: flags})
}

// flagsOf names the risks a handoff's card shows, for the queue.
func flagsOf(e bot.Effect) []string {
	var f []string
	if e.Priority == bot.Urgent || e.Topic == "danger" {
		f = append(f, "danger")
	}
	if e.Card["safe_now"] == "no" {
		f = append(f, "unsafe")
	}
	if age, err := strconv.ParseFloat(e.Card["age"], 64); err == nil && age < 18 {
		f = append(f, "minor")
	}
	return f
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

// reserve finds a free case code and reserves it for the person.
func (k *Cases) reserve(ctx context.Context, pid string) (string, error) {
	for range 10 {
		c := newCode()
		ok, err := k.q.Reserve(ctx, c, pid)
		if err != nil {
			return "", err
		}
		if ok {
			return c, nil
		}
	}
	return "", fmt.Errorf("reserve case code: ten codes taken in a row")
}

// queueChoice answers a waiting person who cancels or chooses to keep
// waiting. ok is false for any other message, which the engine takes.
func (k *Cases) queueChoice(pid string, rec store.Record, in bot.Inbound, s bot.Session, now time.Time) (store.Commit, bool, error) {
	if k == nil || s.Case == "" || s.Held {
		return store.Commit{}, false, nil
	}
	norm := flow.Normalize(in.Text)
	var r bot.Reply
	var ch caseChange
	switch {
	case in.Choice == ChoiceCancel || (norm != "" && k.cancelWords(s.Lang)[norm]):
		r = k.d.menu(&s, in.Channel, now, k.text(s.Lang, "queue.cancelled"))
		w := ch.on(s.Case)
		w.ClearMark, w.Fields, w.TTL = true, []string{"wr", "cancelled", "en", strconv.FormatInt(now.Unix(), 10)}, k.opts.CaseTTL
		ch.ops = []caseOp{{Op: "close", Code: s.Case, Wrap: "cancelled"}}
		ch.counts = []string{"case.cancelled"}
	case in.Choice == ChoiceWait || (norm != "" && norm == flow.Normalize(k.text(s.Lang, "queue.keep"))):
		r = bot.Reply{Text: k.text(s.Lang, "queue.kept")}
	default:
		return store.Commit{}, false, nil
	}
	c, err := k.d.commit(pid, rec, in, s, []bot.Reply{r}, nil, now)
	if err != nil {
		return c, false, err
	}
	return c, true, ch.apply(&c, rec, in.Channel)
}

// cancelWords are the words that cancel a request, in lang, with the
// cancel button's label.
func (k *Cases) cancelWords(lang string) map[string]bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if w, ok := k.cancel[lang]; ok {
		return w
	}
	w := map[string]bool{flow.Normalize(k.text(lang, "queue.cancel")): true}
	for _, s := range strings.Split(k.text(lang, "words.cancel"), "|") {
		if s = flow.Normalize(s); s != "" {
			w[s] = true
		}
	}
	k.cancel[lang] = w
	return w
}

func (k *Cases) text(lang, id string) string {
	s, _ := k.words.Text(lang, id, nil, nil)
	return s
}

// menu brings the person back to the bot's menu, and returns the menu's
// reply with prefix said first.
func (d *Dispatcher) menu(s *bot.Session, ch bot.Channel, now time.Time, prefix string) bot.Reply {
	rest := *s
	rest.Stack, rest.Held, rest.Retries = nil, false, 0
	next, replies, _ := d.engine.Step(rest, bot.Inbound{Channel: ch}, now)
	*s = next
	r := bot.Reply{Text: prefix}
	if len(replies) > 0 {
		m := replies[0]
		r = bot.Reply{Text: join(prefix, m.Text), Choices: m.Choices}
		if m.Short != "" {
			r.Short = join(prefix, m.Short)
		}
	}
	return r
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n\n" + b
}
