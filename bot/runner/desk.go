package runner

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/store"
)

// Counsellor is who acts in the console.
type Counsellor struct {
	Name       string
	Langs      []string
	Capacity   int
	Supervisor bool
}

// Line is one line of a transcript, opened.
type Line struct {
	Time time.Time
	// Who is "p" the person, "c:<name>" a counsellor, "s" the helpline.
	Who  string
	Text string
	// Unsupported is a photo or a voice note the bot cannot show.
	Unsupported bool
}

// CaseView is what a counsellor sees of a case: never an address.
type CaseView struct {
	store.QueueCase
	Card  map[string]string
	Lines []Line
	// Mine is true when the viewer holds the case.
	Mine bool
}

// Claim gives a waiting case to c and tells the person a counsellor is
// there. Of two claims at once one wins; the other gets store.ErrTaken.
func (k *Cases) Claim(ctx context.Context, c Counsellor, code string) error {
	now := k.d.now()
	if err := k.q.Claim(ctx, code, c.Name, c.Langs, c.Capacity, k.opts.Interpreter, now); err != nil {
		return err
	}
	k.log.Info("case claimed", "case", code, "counsellor", c.Name)
	k.notify(ctx, "queue")
	qc, err := k.q.Case(ctx, code)
	if err != nil {
		return err
	}
	return k.hold(ctx, qc)
}

// hold marks the person's side held by a counsellor and tells them. It is
// idempotent, so a view of a claimed case repairs a claim whose second half
// was lost.
func (k *Cases) hold(ctx context.Context, qc store.QueueCase) error {
	err := k.d.apply(ctx, qc.PID, "", qc.Channel, func(rec store.Record, s *bot.Session) (caseStep, error) {
		code, held := parseMark(rec.Case)
		if code != qc.Code {
			return caseStep{}, ErrCaseGone
		}
		if held {
			return caseStep{}, nil
		}
		w := &store.CaseWrite{Code: code, Mark: mark(code, true), TTL: k.opts.SessionTTL}
		w.Who, w.Line = "s", k.d.keys.Seal([]byte(qc.Counsellor+" took the case"), qc.PID)
		return caseStep{
			replies: []bot.Reply{{Text: k.text(s.Lang, "queue.joined")}},
			write:   w,
			counts:  []string{"case.claimed", "wait." + waitBucket(k.d.now().Sub(qc.Created))},
		}, nil
	})
	if errors.Is(err, ErrCaseGone) {
		k.q.Close(ctx, qc.Code, "gone", false, k.d.now())
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
func (k *Cases) mine(ctx context.Context, c Counsellor, code string) (store.QueueCase, error) {
	qc, err := k.q.Case(ctx, code)
	if err != nil {
		return qc, err
	}
	if qc.State != store.Held {
		return qc, store.ErrTaken
	}
	if qc.Counsellor != c.Name && !c.Supervisor {
		return qc, store.ErrNotYours
	}
	return qc, nil
}

// Reply sends a counsellor's message to the person of a case c holds. id
// makes the reply idempotent: the same id twice sends once.
func (k *Cases) Reply(ctx context.Context, c Counsellor, code, text, id string) error {
	qc, err := k.mine(ctx, c, code)
	if err != nil {
		return err
	}
	if qc.Counsellor != c.Name {
		return store.ErrNotYours // a supervisor reads, the holder writes
	}
	err = k.d.apply(ctx, qc.PID, "c-"+id, qc.Channel, func(rec store.Record, s *bot.Session) (caseStep, error) {
		open, held := parseMark(rec.Case)
		if open != code {
			return caseStep{}, ErrCaseGone
		}
		w := &store.CaseWrite{Code: code, TTL: k.opts.SessionTTL, Who: "c:" + c.Name, Line: k.d.keys.Seal([]byte(text), qc.PID)}
		if !held {
			w.Mark = mark(code, true)
		}
		return caseStep{replies: []bot.Reply{{Text: text}}, write: w, counts: []string{"case.reply"}}, nil
	})
	if err == nil {
		k.notify(ctx, "case "+code)
	}
	return err
}

// Transfer passes a case c holds back to the queue (to == nil) or to
// another counsellor, and tells the person.
func (k *Cases) Transfer(ctx context.Context, c Counsellor, code string, to *Counsellor) error {
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
	k.log.Info("case transferred", "case", code, "from", qc.Counsellor, "to", name)
	err = k.d.apply(ctx, qc.PID, "", qc.Channel, func(rec store.Record, s *bot.Session) (caseStep, error) {
		if open, _ := parseMark(rec.Case); open != code {
			return caseStep{}, ErrCaseGone
		}
		line := "passed to " + name
		if to == nil {
			line = "passed back to the queue"
		}
		w := &store.CaseWrite{Code: code, Mark: mark(code, to != nil), TTL: k.opts.SessionTTL, Who: "s", Line: k.d.keys.Seal([]byte(line), qc.PID)}
		return caseStep{replies: []bot.Reply{{Text: k.text(s.Lang, "queue.transferred")}}, write: w, counts: []string{"case.transfer"}}, nil
	})
	k.notify(ctx, "queue")
	k.notify(ctx, "case "+code)
	return err
}

// End ends a case c holds with a wrap-up category and an optional note:
// the person hears so and is back at the bot's menu. The person's side is
// written first, so that a crash between the two leaves the case in the
// counsellor's list, to be ended again, never a person held by nobody.
func (k *Cases) End(ctx context.Context, c Counsellor, code, wrap, note string) error {
	qc, err := k.mine(ctx, c, code)
	if err != nil {
		return err
	}
	now := k.d.now()
	err = k.d.apply(ctx, qc.PID, "", qc.Channel, func(rec store.Record, s *bot.Session) (caseStep, error) {
		if open, _ := parseMark(rec.Case); open != code {
			return caseStep{}, ErrCaseGone
		}
		r := k.d.menu(s, bot.Channel(qc.Channel), now, k.text(s.Lang, "queue.ended"))
		w := &store.CaseWrite{Code: code, ClearMark: true, TTL: k.opts.CaseTTL, Who: "s",
			Line:   k.d.keys.Seal([]byte("ended: "+wrap), qc.PID),
			Fields: []string{"wr", wrap, "en", strconv.FormatInt(now.Unix(), 10)}}
		if note != "" {
			w.Fields = append(w.Fields, "note", string(k.d.keys.Seal([]byte(note), qc.PID)))
		}
		return caseStep{replies: []bot.Reply{r}, write: w, counts: []string{"case.wrap." + wrap}}, nil
	})
	if err != nil && !errors.Is(err, ErrCaseGone) {
		return err
	}
	if err := k.q.Finish(ctx, code, qc.Counsellor, wrap, now); err != nil && !errors.Is(err, store.ErrTaken) {
		return err
	}
	k.log.Info("case ended", "case", code, "counsellor", c.Name, "wrap", wrap)
	k.notify(ctx, "queue")
	k.notify(ctx, "case "+code)
	return nil
}

// View shows a case to c: the holder, or a supervisor. The card and the
// transcript are opened here and never stored open.
func (k *Cases) View(ctx context.Context, c Counsellor, code string) (CaseView, error) {
	qc, err := k.q.Case(ctx, code)
	if err != nil {
		return CaseView{}, err
	}
	v := CaseView{QueueCase: qc, Mine: qc.State == store.Held && qc.Counsellor == c.Name}
	if !v.Mine && !c.Supervisor {
		return CaseView{}, store.ErrNotYours
	}
	if v.Mine {
		if err := k.hold(ctx, qc); err != nil && !errors.Is(err, ErrCaseGone) {
			return v, err
		}
	}
	pc, err := k.q.PersonCase(ctx, qc.PID, code)
	if err != nil {
		return v, err
	}
	if sealed := pc.Fields["card"]; sealed != "" {
		if b, err := k.d.keys.Open([]byte(sealed), qc.PID); err == nil {
			json.Unmarshal(b, &v.Card)
		}
	}
	for _, l := range pc.Lines {
		b, err := k.d.keys.Open(l.Sealed, qc.PID)
		if err != nil {
			continue
		}
		line := Line{Time: l.Time, Who: l.Who, Text: string(b)}
		if line.Text == "\x00unsupported" {
			line.Text, line.Unsupported = "", true
		}
		v.Lines = append(v.Lines, line)
	}
	return v, nil
}

// CanSee reports whether c may take a waiting case now: its language is
// one of c's, or it has waited past the interpreter time. Interpreter is
// true when the case is offered to c without a shared language.
func (k *Cases) CanSee(c Counsellor, qc store.QueueCase, now time.Time) (ok, interpreter bool) {
	if slices.Contains(c.Langs, qc.Lang) {
		return true, false
	}
	return now.Sub(qc.Created) >= k.opts.Interpreter, true
}

// caseStep is what a counsellor's action writes to the person's side.
type caseStep struct {
	replies []bot.Reply
	write   *store.CaseWrite
	counts  []string
}

// apply runs a counsellor's action on the person's side as a versioned
// commit, like a message: it reads the session and its case mark, lets f
// decide, and commits, reading again when a message of the person
// committed in between. msgID, when set, makes the action idempotent.
func (d *Dispatcher) apply(ctx context.Context, pid, msgID, channel string, f func(rec store.Record, s *bot.Session) (caseStep, error)) error {
	mu := &d.locks[stripe(pid)]
	mu.Lock()
	defer mu.Unlock()
	for range maxAttempts {
		rec, err := d.store.Load(ctx, pid)
		if err != nil {
			return err
		}
		if rec.Session == nil || rec.Address == nil {
			return ErrCaseGone
		}
		s := d.session(pid, rec)
		step, err := f(rec, &s)
		if err != nil || (step.write == nil && step.replies == nil) {
			return err
		}
		now := d.now()
		c, err := d.commit(pid, rec, bot.Inbound{Channel: bot.Channel(channel), ID: msgID}, s, step.replies, nil, now)
		if err != nil {
			return err
		}
		c.Kept, c.Case, c.Counts = rec.Kept, step.write, append(c.Counts, step.counts...)
		outcome, err := d.store.Commit(ctx, c)
		if err != nil {
			return err
		}
		if outcome != store.Conflict {
			return nil
		}
	}
	return ErrContention
}

// Flags names the risk flags in words a counsellor reads.
func Flags(flags []string) string {
	names := map[string]string{"danger": "danger words", "unsafe": "not safe now", "minor": "under 18"}
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		if n, ok := names[f]; ok {
			f = n
		}
		out = append(out, f)
	}
	return strings.Join(out, ", ")
}
