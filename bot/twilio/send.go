package twilio

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/sms"
)

// errStopped refuses a send to a person who said STOP.
var errStopped = fmt.Errorf("%w: the person opted out", bot.ErrPermanent)

// neutralRef marks the replies of a person's first message, when Neutral is
// set: the reply's language follows.
const neutralRef = "n:"

// Send delivers a reply by SMS or WhatsApp. It sends nothing to a person
// who said STOP, keeps to the channel's rate, and marks a person Twilio
// reports as opted out. A reply longer than one Twilio message goes as
// several; when a later part fails, a retry sends the earlier ones again.
func (c *Channel) Send(ctx context.Context, out bot.Outgoing) error {
	limit := c.limits[out.Channel]
	if limit == nil {
		return fmt.Errorf("%w: twilio cannot send on %s", bot.ErrPermanent, out.Channel)
	}
	stopped, _, err := c.store.Standing(ctx, out.PID)
	if err != nil {
		return err
	}
	if stopped {
		return errStopped
	}
	for _, body := range Bodies(c.neutral(out), out.Channel) {
		if err := limit.Wait(ctx); err != nil {
			return err
		}
		if err := c.rest.create(ctx, c.message(out, body)); err != nil {
			c.failed(ctx, out, err)
			return err
		}
		n, ucs2 := sms.Segments(body)
		c.log.Debug("twilio message sent", "pid", out.PID, "channel", out.Channel, "segments", n, "ucs2", ucs2)
	}
	return nil
}

// message addresses one body.
func (c *Channel) message(out bot.Outgoing, body string) message {
	m := message{To: out.Address, Body: body, StatusCallback: c.statusURL}
	switch {
	case out.Channel == bot.WhatsApp && c.opts.WhatsAppFrom != "":
		m.From = c.opts.WhatsAppFrom
	case c.opts.MessagingServiceSID != "":
		m.Service = c.opts.MessagingServiceSID
	case out.Channel == bot.WhatsApp:
		m.From = "whatsapp:" + c.opts.From
	default:
		m.From = c.opts.From
	}
	return m
}

// failed notes what a failed send says about the person: Twilio's error
// 21610 means they opted out through Twilio, and we stop too.
func (c *Channel) failed(ctx context.Context, out bot.Outgoing, err error) {
	var e *Error
	if !errors.As(err, &e) || e.Code != codeOptedOut {
		return
	}
	c.optedOut(ctx, out.PID, out.PID)
}

// optedOut marks a person Twilio will no longer send to.
func (c *Channel) optedOut(ctx context.Context, pid, countKey string) {
	if err := c.store.SetStopped(ctx, pid, true); err != nil {
		c.log.Warn("stop mark not set", "pid", pid, "err", err)
		return
	}
	c.log.Info("person opted out through twilio", "pid", pid)
	c.count(ctx, countKey, "twilio.opted_out")
}

// neutral returns the reply to send for out: for the first reply to a
// person in Neutral mode, the neutral greeting in its language in place of
// the text, with the choices kept, so that a lock-screen preview names no
// helpline. Danger guidance and a last reply go as they are.
func (c *Channel) neutral(out bot.Outgoing) bot.Reply {
	lang, ok := strings.CutPrefix(out.Ref, neutralRef)
	if !ok || !c.opts.Neutral || out.Final || (c.opts.Urgent != nil && c.opts.Urgent(out.Reply)) {
		return out.Reply
	}
	text, _ := c.words.Text(lang, msgNeutral, nil, nil)
	return bot.Reply{Text: text, Choices: out.Reply.Choices}
}
