package telegram

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/helpline/helpline/bot"
)

// maxCallbackData is the most bytes Telegram carries back from a button.
const maxCallbackData = 64

// errStopped refuses a send to a person who blocked the bot.
var errStopped = fmt.Errorf("%w: the person blocked the bot", bot.ErrPermanent)

// Send delivers one reply: it clears the chat when asked, then sends the
// text (split when too long) with the choices as an inline keyboard. The
// answer to a tap takes the place of the message tapped, whose keyboard
// goes with it, so that no button can be tapped twice. A 429 becomes
// bot.RetryAfter; a 403 (the person blocked the bot) or a 400 is permanent,
// and a 403 sets the person's stop mark; anything else is retried.
func (c *Channel) Send(ctx context.Context, out bot.Outgoing) error {
	chat, err := strconv.ParseInt(out.Address, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: the address is not a chat ID", bot.ErrPermanent)
	}
	kind, msg := parseRef(out.Ref)
	if err := c.before(ctx, out.PID, chat, kind, msg); err != nil {
		return c.classify(ctx, out.PID, err)
	}
	text, kb := render(out.Reply)
	parts := split(text, maxText)
	for i, part := range parts {
		var markup *models.InlineKeyboardMarkup
		if i == len(parts)-1 {
			markup = kb
		}
		if err := c.limits.wait(ctx, chat); err != nil {
			return err
		}
		if i == 0 && kind == refKeyboard {
			edited, err := c.edit(ctx, chat, msg, part, markup)
			if err != nil {
				return c.classify(ctx, out.PID, err)
			}
			if edited {
				continue
			}
		}
		id, err := c.api.SendText(ctx, chat, part, markup)
		if err != nil {
			return c.classify(ctx, out.PID, err)
		}
		if !out.Final && id > 0 { // the person asked to be forgotten: keep nothing
			c.trail.record(out.PID, id)
		}
	}
	return nil
}

// edit puts text and kb in place of message msg, the one the person
// tapped. The person sees the conversation go on in one message, and a
// shared phone keeps less of it. It reports false when the text must go in
// a new message instead: the message cannot be edited any more (it was
// deleted, say), and the old keyboard's taps are answered as stale; or the
// message already reads exactly like the answer (a question asked again),
// so that an edit would leave the tap looking unanswered. An edit that
// would change nothing because this replica made it before, for a send
// that is now retried, is done.
func (c *Channel) edit(ctx context.Context, chat int64, msg int, text string, kb *models.InlineKeyboardMarkup) (bool, error) {
	key := c.edits.key(chat, msg, text, kb)
	err := c.api.EditText(ctx, chat, msg, text, kb)
	var e *Error
	switch {
	case err == nil:
		c.edits.made(key)
		return true, nil
	case !errors.As(err, &e):
		return false, err
	case e.Unchanged:
		return c.edits.ours(key), nil
	case e.Status == http.StatusBadRequest:
		return false, nil
	}
	return false, err
}

// before does what must happen before a reply is sent: a reply that
// answers no message of the person checks the stop mark first (a reply to
// a message needs not: the person just wrote); a clear empties the chat.
func (c *Channel) before(ctx context.Context, pid string, chat int64, kind byte, msg int) error {
	switch kind {
	case 0:
		stopped, err := c.deps.Marks.Stopped(ctx, pid)
		if err != nil {
			return err
		}
		if stopped {
			return errStopped
		}
	case refClear:
		return c.clear(ctx, pid, chat, msg)
	}
	return nil
}

// classify turns a failed call into what delivery should do with it.
func (c *Channel) classify(ctx context.Context, pid string, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Status {
	case http.StatusTooManyRequests:
		return &bot.RetryAfter{Delay: max(e.RetryAfter, time.Second), Err: e}
	case http.StatusForbidden:
		if err := c.deps.Marks.SetStopped(ctx, pid, true); err != nil {
			c.log.Warn("telegram stop mark not set", "pid", pid, "err", err)
		}
		return fmt.Errorf("%w: %w", bot.ErrPermanent, e)
	case http.StatusBadRequest:
		return fmt.Errorf("%w: %w", bot.ErrPermanent, e)
	}
	return e
}

// status returns the Bot API status of a failed call, 0 if none.
func status(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// render returns a reply's text and its choices as an inline keyboard, one
// button a row. Choices whose IDs do not fit a button are written as a
// numbered list instead: the person answers with the number.
func render(r bot.Reply) (string, *models.InlineKeyboardMarkup) {
	if len(r.Choices) == 0 {
		return r.Text, nil
	}
	rows := make([][]models.InlineKeyboardButton, 0, len(r.Choices))
	for _, ch := range r.Choices {
		if ch.ID == "" || len(ch.ID) > maxCallbackData {
			return numbered(r), nil
		}
		rows = append(rows, []models.InlineKeyboardButton{{Text: ch.Label, CallbackData: ch.ID}})
	}
	return r.Text, &models.InlineKeyboardMarkup{InlineKeyboard: rows}
}

func numbered(r bot.Reply) string {
	var b strings.Builder
	b.WriteString(r.Text)
	b.WriteString("\n")
	for i, ch := range r.Choices {
		fmt.Fprintf(&b, "\n%d. %s", i+1, ch.Label)
	}
	return b.String()
}
