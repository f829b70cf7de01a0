package runner

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/store"
)

// DeskStore is what the desk needs of the store's queue.
type DeskStore interface {
	Claim(ctx context.Context, code, counsellor string, langs []string, capacity int, interpreter time.Duration, now time.Time) error
	Transfer(ctx context.Context, code, holder, to string, capacity int) error
	Finish(ctx context.Context, code, holder, wrap string, now time.Time) error
	Close(ctx context.Context, code, wrap string, forget bool, now time.Time) error
	Case(ctx context.Context, code string) (bot.Case, error)
	PersonCase(ctx context.Context, pid, code string) (store.PersonCase, error)
	// Stopped reports whether nothing may be sent to the person: they
	// sent STOP or blocked the bot.
	Stopped(ctx context.Context, pid string) (bool, error)
	NotifyConsole(ctx context.Context, note string) error
}

// Actor commits a counsellor's action on the person's side: the Dispatcher.
type Actor interface {
	Act(ctx context.Context, pid string, a Action) error
}

// DefaultInterpreter is how long a case waits for a counsellor of its
// language when DeskOptions leave it zero.
const DefaultInterpreter = 10 * time.Minute

// DeskOptions tune the desk. Zero values take the defaults.
type DeskOptions struct {
	// Interpreter is how long a case waits for a counsellor of its
	// language before everyone is offered it. Default 10 minutes.
	Interpreter time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Desk is what counsellors do with cases in the console. Each action
// changes the queue and then, through the Actor, the person's side, where
// the engine tells the person.
type Desk struct {
	q     DeskStore
	actor Actor
	keys  *secret.Keys
	log   *slog.Logger
	opts  DeskOptions
}

// NewDesk makes the desk.
func NewDesk(q DeskStore, actor Actor, keys *secret.Keys, log *slog.Logger, opts DeskOptions) *Desk {
	if opts.Interpreter <= 0 {
		opts.Interpreter = DefaultInterpreter
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Desk{q: q, actor: actor, keys: keys, log: log, opts: opts}
}

func (k *Desk) notify(ctx context.Context, note string) {
	if err := k.q.NotifyConsole(ctx, note); err != nil {
		k.log.Warn("console not notified", "err", err)
	}
}

// Claim gives a waiting case to c and tells the person a counsellor is
// there. Of two claims at once one wins; the other gets bot.ErrTaken.
func (k *Desk) Claim(ctx context.Context, c bot.Counsellor, code string) error {
	now := k.opts.Now()
	if err := k.q.Claim(ctx, code, c.Name, c.Langs, c.Capacity, k.opts.Interpreter, now); err != nil {
		return err
	}
	k.log.Info("case claimed", "case", k.keys.CaseRef(code), "counsellor", c.Name)
	k.notify(ctx, "queue")
	qc, err := k.q.Case(ctx, code)
	if err != nil {
		return err
	}
	return k.hold(ctx, qc)
}

// hold tells the person's side that the holder of qc is there. It is
// idempotent (by the claim's time), so a view of a claimed case repairs a
// claim whose second half was lost.
func (k *Desk) hold(ctx context.Context, qc bot.Case) error {
	err := k.actor.Act(ctx, qc.PID, Action{
		Event: bot.Claimed, Code: qc.Code, Channel: qc.Channel,
		ID:  "claim-" + qc.Code + "-" + qc.Counsellor + "-" + qc.Claimed.Format("150405.000"),
		Who: "s", Line: qc.Counsellor + " took the case",
		Counts: []string{"case.claimed", "wait." + waitBucket(qc.Claimed.Sub(qc.Created))},
	})
	if errors.Is(err, bot.ErrCaseGone) {
		k.q.Close(ctx, qc.Code, bot.LeftGone, false, k.opts.Now())
		k.notify(ctx, "queue")
	}
	return err
}

// waitBucket names a waiting time's range, for statistics.
func waitBucket(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "lt1m"
	case d < 5*time.Minute:
		return "lt5m"
	case d < 15*time.Minute:
		return "lt15m"
	case d < time.Hour:
		return "lt1h"
	}
	return "ge1h"
}

// WaitBuckets lists the waiting time ranges the statistics count, in order.
var WaitBuckets = []string{"lt1m", "lt5m", "lt15m", "lt1h", "ge1h"}

// mine reads a case that c holds; a supervisor may act on any open case.
func (k *Desk) mine(ctx context.Context, c bot.Counsellor, code string) (bot.Case, error) {
	qc, err := k.q.Case(ctx, code)
	if err != nil {
		return qc, err
	}
	if qc.State != bot.WithCounsellor {
		return qc, bot.ErrTaken
	}
	if qc.Counsellor != c.Name && !c.Supervisor {
		return qc, bot.ErrNotYours
	}
	return qc, nil
}

// Reply sends a counsellor's message to the person of a case c holds. id
// makes the reply idempotent: the same id twice sends once.
func (k *Desk) Reply(ctx context.Context, c bot.Counsellor, code, text, id string) error {
	qc, err := k.mine(ctx, c, code)
	if err != nil {
		return err
	}
	if qc.Counsellor != c.Name {
		return bot.ErrNotYours // a supervisor reads, the holder writes
	}
	err = k.actor.Act(ctx, qc.PID, Action{
		Event: bot.CounsellorSaid, Code: code, Channel: qc.Channel, Text: text, ID: id,
		Who: "c:" + c.Name, Line: text, Counts: []string{"case.reply"},
	})
	if err == nil {
		k.notify(ctx, "case "+code)
	}
	return err
}

// Transfer passes a case c holds back to the queue (to == nil) or to
// another counsellor, and tells the person.
func (k *Desk) Transfer(ctx context.Context, c bot.Counsellor, code string, to *bot.Counsellor) error {
	qc, err := k.mine(ctx, c, code)
	if err != nil {
		return err
	}
	name, capacity := "", 0
	if to != nil {
		name, capacity = to.Name, to.Capacity
	}
	if err := k.q.Transfer(ctx, code, qc.Counsellor, name, capacity); err != nil {
		return err
	}
	k.log.Info("case transferred", "case", k.keys.CaseRef(code), "from", qc.Counsellor, "to", name)
	a := Action{Event: bot.Transferred, Code: code, Channel: qc.Channel, Who: "s", Line: "passed to " + name, Counts: []string{"case.transfer"}}
	if to == nil {
		a.Event, a.Line = bot.Requeued, "passed back to the queue"
	}
	err = k.actor.Act(ctx, qc.PID, a)
	k.notify(ctx, "queue")
	k.notify(ctx, "case "+code)
	return err
}

// End ends a case c holds with a wrap-up category and an optional note:
// the person hears so and is back at the bot's menu. The person's side is
// written first, so that a crash between the two leaves the case in the
// counsellor's list, to be ended again, never a person held by nobody.
func (k *Desk) End(ctx context.Context, c bot.Counsellor, code, wrap, note string) error {
	qc, err := k.mine(ctx, c, code)
	if err != nil {
		return err
	}
	now := k.opts.Now()
	a := Action{Event: bot.Ended, Code: code, Channel: qc.Channel, Who: "s", Line: "ended: " + wrap,
		Counts: []string{"case.wrap." + wrap, EndCount(qc.Lang, qc.Topic, wrap, waitBucket(qc.Claimed.Sub(qc.Created)))}}
	if note != "" {
		a.Fields = []string{"note", string(k.keys.Seal([]byte(note), qc.PID))}
	}
	if err := k.actor.Act(ctx, qc.PID, a); err != nil && !errors.Is(err, bot.ErrCaseGone) {
		return err
	}
	if err := k.q.Finish(ctx, code, qc.Counsellor, wrap, now); err != nil && !errors.Is(err, bot.ErrTaken) {
		return err
	}
	k.log.Info("case ended", "case", k.keys.CaseRef(code), "counsellor", c.Name, "wrap", wrap)
	k.notify(ctx, "queue")
	k.notify(ctx, "case "+code)
	return nil
}

// View shows a case to c: the holder, a supervisor, or the last holder of
// a case that has ended (to read, and to see why it ended). The card and
// the transcript are opened here and never stored open.
func (k *Desk) View(ctx context.Context, c bot.Counsellor, code string) (bot.CaseView, error) {
	qc, err := k.q.Case(ctx, code)
	if err != nil {
		return bot.CaseView{}, err
	}
	v := bot.CaseView{Case: qc, Mine: qc.State == bot.WithCounsellor && qc.Counsellor == c.Name}
	held := qc.State == bot.Closed && qc.Counsellor == c.Name
	if !v.Mine && !c.Supervisor && !held {
		return bot.CaseView{}, bot.ErrNotYours
	}
	if v.Mine {
		if err := k.hold(ctx, qc); err != nil && !errors.Is(err, bot.ErrCaseGone) {
			return v, err
		}
	}
	if err := k.left(ctx, &v); err != nil {
		return v, err
	}
	return v, k.open(ctx, &v, true)
}

// Preview shows a waiting case to a counsellor who may take it, before the
// claim: the card, the priority and the risks, never the transcript.
func (k *Desk) Preview(ctx context.Context, c bot.Counsellor, code string) (bot.CaseView, error) {
	qc, err := k.q.Case(ctx, code)
	if err != nil {
		return bot.CaseView{}, err
	}
	if qc.State != bot.InQueue {
		return bot.CaseView{}, bot.ErrTaken
	}
	if ok, _ := k.CanSee(c, qc, k.opts.Now()); !ok && !c.Supervisor {
		return bot.CaseView{}, bot.ErrLanguage
	}
	v := bot.CaseView{Case: qc}
	return v, k.open(ctx, &v, false)
}

// left says in v why the person is no longer in the case, when they are
// not: they cancelled, erased or left it, or stopped the bot.
func (k *Desk) left(ctx context.Context, v *bot.CaseView) error {
	if v.State == bot.Closed {
		if slices.Contains([]string{bot.LeftCancelled, bot.LeftGone, bot.LeftErased}, v.Wrap) {
			v.Left = v.Wrap
		}
		return nil
	}
	stopped, err := k.q.Stopped(ctx, v.PID)
	if err != nil {
		return err
	}
	if stopped {
		v.Left = bot.LeftStopped
	}
	return nil
}

// open opens v's card and, with lines, its note and transcript.
func (k *Desk) open(ctx context.Context, v *bot.CaseView, lines bool) error {
	pc, err := k.q.PersonCase(ctx, v.PID, v.Code)
	if err != nil {
		return err
	}
	if b, err := k.keys.Open([]byte(pc.Fields["card"]), v.PID); err == nil {
		json.Unmarshal(b, &v.Card)
	}
	if !lines {
		return nil
	}
	if b, err := k.keys.Open([]byte(pc.Fields["note"]), v.PID); err == nil {
		v.Note = string(b)
	}
	for _, l := range pc.Lines {
		b, err := k.keys.Open(l.Sealed, v.PID)
		if err != nil {
			continue
		}
		line := bot.Line{Time: l.Time, Who: l.Who, Text: string(b)}
		if line.Text == unsupportedLine {
			line.Text, line.Unsupported = "", true
		}
		v.Lines = append(v.Lines, line)
	}
	return nil
}

// EndCount names the counter of a case a counsellor ended, by language,
// topic, wrap-up and waiting time: aggregate, nothing of the person. The
// parts are joined by "|", which no language code, topic or wrap-up holds.
func EndCount(lang, topic, wrap, wait string) string {
	return EndPrefix + strings.Join([]string{lang, topic, wrap, wait}, "|")
}

// EndPrefix starts the name of every EndCount counter.
const EndPrefix = "case.end|"

// CanSee reports whether c may take a waiting case now: its language is
// one of c's, or it has waited past the interpreter time. Interpreter is
// true when the case is offered to c without a shared language.
func (k *Desk) CanSee(c bot.Counsellor, qc bot.Case, now time.Time) (ok, interpreter bool) {
	if slices.Contains(c.Langs, qc.Lang) {
		return true, false
	}
	return now.Sub(qc.Created) >= k.opts.Interpreter, true
}

// Flags names the risk flags in words a counsellor reads.
func Flags(flags []string) string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		if n, ok := flagNames[f]; ok {
			f = n
		}
		out = append(out, f)
	}
	return strings.Join(out, ", ")
}

// flagNames are the risk flags as a counsellor reads them: the kinds of
// alarm, and the risks the flows' answers name.
var flagNames = map[string]string{
	"danger": "danger words", "selfharm": "self-harm", "unsafe": "not safe now", "minor": "under 18",
	"documents": "documents kept", "debt": "debt", "not_free": "not free to leave", "threats": "threats or violence",
	"deceived": "deceived about the work", "wages": "pay kept", "isolated": "kept away from others",
}
