package twilio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/helpline/helpline/bot"
)

// maxRequest bounds a webhook body. Twilio's are a few kilobytes.
const maxRequest = 64 << 10

// emptyTwiML answers an incoming message: the replies go out later,
// through the REST API.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response/>`

// inbound takes a person's message. It answers 200 only once the message is
// committed (or was seen before), so that a failure before that leaves
// Twilio's retry, if any, to bring it again. A message that failed is also
// held and handed on again by Run (hold.go), and so is one that comes while
// earlier ones of the person are held, behind them.
func (c *Channel) inbound(w http.ResponseWriter, r *http.Request) {
	p, ok := c.verified(w, r)
	if !ok {
		return
	}
	in, err := inbound(p)
	if err != nil {
		c.log.Warn("twilio webhook refused", "err", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	pid := c.d.PersonID(in)
	m := heldMessage{in: in, optOut: p["OptOutType"], since: time.Now()}
	if c.hold.waiting(pid) {
		c.holdBack(w, pid, m)
		return
	}
	if err := c.take(r.Context(), in, m.optOut); err != nil {
		c.log.Error("twilio message not handled", "pid", pid, "err", err)
		c.holdBack(w, pid, m)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	io.WriteString(w, emptyTwiML)
}

// holdBack holds a message that is not handed on yet and answers 503: the
// message is in this replica's memory only, and Twilio's retry, if any,
// may still bring it to one that can take it now.
func (c *Channel) holdBack(w http.ResponseWriter, pid string, m heldMessage) {
	if !c.hold.add(pid, m) {
		c.log.Error("twilio message not held: the hold is full", "pid", pid, "held", maxHeld)
	}
	http.Error(w, "try again", http.StatusServiceUnavailable)
}

// take hands a message on, after STOP and START: STOP marks the person
// stopped and erases their conversation, with no reply; while they are
// stopped their messages are dropped unread, until they write START (or
// another of the start command's keywords).
func (c *Channel) take(ctx context.Context, in bot.Inbound, optOutType string) error {
	pid := c.d.PersonID(in)
	stopped, session, err := c.store.Standing(ctx, pid)
	if err != nil {
		return err
	}
	kw := c.keywords.kind(in.Text, optOutType)
	switch {
	case kw == stopKeyword:
		return c.stop(ctx, pid, in)
	case stopped && kw != startKeyword:
		c.count(ctx, pid, "twilio.stopped_in")
		return nil
	case stopped:
		if err := c.store.SetStopped(ctx, pid, false); err != nil {
			return err
		}
		c.log.Info("person opted in again", "pid", pid)
		c.count(ctx, pid, "twilio.start")
	}
	if c.opts.Neutral && !session {
		lang, _ := c.words.Match(in.LangHints...)
		in.Ref = neutralRef + lang
	}
	return c.d.Handle(ctx, in)
}

// stop marks the person stopped, then has the conversation erase them. The
// erase's own reply is never sent: the mark comes first.
func (c *Channel) stop(ctx context.Context, pid string, in bot.Inbound) error {
	if err := c.store.SetStopped(ctx, pid, true); err != nil {
		return err
	}
	c.log.Info("person opted out", "pid", pid)
	c.count(ctx, pid, "twilio.stop")
	in.Text, in.Unsupported, in.Ref = c.opts.EraseCommand, false, ""
	return c.d.Handle(ctx, in)
}

// The delivery states counted from status callbacks; the others (queued,
// sent ...) are steps on the way.
var counted = map[string]bool{"delivered": true, "undelivered": true, "failed": true, "read": true}

// status takes a delivery report of one of our messages: it counts the
// final states, with no link to the person, and marks a person Twilio
// reports as opted out.
func (c *Channel) status(w http.ResponseWriter, r *http.Request) {
	p, ok := c.verified(w, r)
	if !ok {
		return
	}
	sid := p["MessageSid"]
	if !validSID.MatchString(sid) {
		c.log.Warn("twilio status refused", "err", errNoSID)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	// A callback Twilio sends again changes nothing: the same message's
	// same state is counted, and an opt-out taken, once. The mark is a
	// keyed hash of the SID and the state, so no SID is kept.
	mark := c.d.PersonID(bot.Inbound{Channel: "twilio-status", Address: sid + " " + p["MessageStatus"] + " " + p["ErrorCode"]})
	if first, err := c.store.FirstSeen(r.Context(), c.partOf(sid), mark, time.Now()); err != nil {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	} else if !first {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if code, _ := strconv.Atoi(p["ErrorCode"]); code == codeOptedOut {
		ch, number := channelOf(p["To"])
		if validNumber.MatchString(number) {
			pid := c.d.PersonID(bot.Inbound{Channel: ch, Address: p["To"]})
			c.optedOut(r.Context(), pid, sid)
		}
	}
	if s := p["MessageStatus"]; counted[s] {
		c.count(r.Context(), sid, "twilio.status."+s)
	}
	w.WriteHeader(http.StatusNoContent)
}

// verified reads a webhook's body and checks its X-Twilio-Signature against
// the URL Twilio posted to, built from PublicURL and the request's path and
// query: a form is signed with its fields, a JSON body through the
// bodySHA256 query field. A request that fails is answered 403.
func (c *Channel) verified(w http.ResponseWriter, r *http.Request) (params, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
	if err != nil {
		status := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, "unreadable", status)
		return nil, false
	}
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" || !c.validator.ValidateBody(c.opts.PublicURL+r.URL.RequestURI(), body, sig) {
		c.log.Warn("twilio webhook refused: bad signature", "path", r.URL.Path)
		http.Error(w, "forbidden", http.StatusForbidden)
		return nil, false
	}
	p, err := parseParams(r.Header.Get("Content-Type"), body)
	if err != nil {
		c.log.Warn("twilio webhook refused", "err", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return nil, false
	}
	return p, true
}
