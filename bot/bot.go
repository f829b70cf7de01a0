// Package bot holds the helpline's domain types: what a person sends, what the
// bot answers, and the contract every channel adapter keeps. It does no I/O and
// imports none of its subpackages.
package bot

import (
	"context"
	"errors"
	"time"
)

// Channel names the kind of channel a person writes on.
type Channel string

// The channels the helpline serves.
const (
	Telegram Channel = "telegram"
	SMS      Channel = "sms"
	WhatsApp Channel = "whatsapp"
	Web      Channel = "web"
)

// Inbound is one message from a person, normalised by a channel adapter, or
// one thing a counsellor did to the person's case (Event). Address and Text
// identify or describe the person: they are never logged.
type Inbound struct {
	// Event is Message for what a person sent; the other events come from
	// the console and reach the person's conversation the same way.
	Event   Event
	Channel Channel
	// Address is what the channel needs to reply (a chat ID, a phone number,
	// a web chat token). It is sealed before it is stored.
	Address string
	// ID is the provider's message ID, used to ignore redelivered messages.
	ID string
	// Seq is the provider's sequence number of the message when its IDs
	// count up, one by one, across every person (Telegram's update ID); zero
	// when there is none. A message with one is marked as seen by one bit
	// in a bitmap of the partition instead of a member of its set of marks.
	Seq int64
	// Text is what the person typed. Empty when they tapped a choice.
	Text string
	// Choice is the ID of the choice the person tapped, when the channel has
	// buttons.
	Choice string
	// Unsupported is true for a photo, a voice note or anything else the bot
	// cannot read; the bot answers politely and keeps nothing of it.
	Unsupported bool
	// Start is a deep link payload (Telegram's /start payload), if any.
	Start string
	// LangHints are the person's likely languages, best first (a client's
	// language code, a browser's Accept-Language). Hints, never decisions.
	LangHints []string
	// Country is a hint of the person's country (ISO 3166 alpha-2), for
	// example from a phone number's calling code.
	Country string
	// Ref is channel data carried to the first reply (for example the
	// Telegram message whose button was tapped, which the reply replaces).
	// It is kept only with that reply, in the outbox.
	Ref string
}

// Event is what an Inbound tells the conversation.
type Event uint8

// The events of a conversation.
const (
	// Message: the person wrote or tapped something (the zero value).
	Message Event = iota
	// Claimed: a counsellor took the person's waiting case.
	Claimed
	// CounsellorSaid: the counsellor holding the case wrote Text to the
	// person.
	CounsellorSaid
	// Requeued: the counsellor passed the case back to the queue.
	Requeued
	// Transferred: the case passed to another counsellor.
	Transferred
	// Ended: the counsellor ended the case.
	Ended
)

// Reply is one message to a person, channel-neutral: a channel renders the
// choices as buttons or as a numbered list.
type Reply struct {
	Text string `json:"t"`
	// Short is a shorter variant for SMS, when the locale has one.
	Short   string   `json:"s,omitempty"`
	Choices []Choice `json:"c,omitempty"`
	// Lang is the language the reply is written in; empty when the reply
	// did not come from the engine.
	Lang string `json:"lang,omitempty"`
	// From says who speaks: the bot, or the counsellor holding the case.
	From Speaker `json:"from,omitempty"`
	// Case is where the person's case stands once the reply is said.
	Case CaseState `json:"case,omitempty"`
	// Step and Steps place the reply's question in a series of questions
	// (question Step of Steps); both are zero outside a series.
	Step  int `json:"step,omitempty"`
	Steps int `json:"steps,omitempty"`
}

// Speaker is who a reply comes from.
type Speaker uint8

// The speakers of a reply. A counsellor is never named to the person.
const (
	SpeakerBot Speaker = iota
	SpeakerCounsellor
)

// Choice is one button of a reply.
type Choice struct {
	ID    string `json:"i"`
	Label string `json:"l"`
	// Kind marks a choice a channel may show apart from the others.
	Kind ChoiceKind `json:"k,omitempty"`
}

// ChoiceKind says what a choice does beyond answering its question.
type ChoiceKind uint8

// The kinds of choice.
const (
	// ChoicePlain answers the question.
	ChoicePlain ChoiceKind = iota
	// ChoiceForget leads to a question that confirms forgetting the
	// person: a channel that confirms by itself may skip that question.
	ChoiceForget
	// ChoiceErase forgets the person at once.
	ChoiceErase
)

// Outgoing is a reply on its way to one person through the outbox.
type Outgoing struct {
	Channel Channel
	Address string
	// PID is the person's pseudonymous ID: what a sender may log.
	PID   string
	Reply Reply
	Ref   string
	// Final is the last reply to a person who asked to be forgotten.
	Final bool
}

// Sender delivers replies on one channel. Errors it returns should wrap
// ErrPermanent when retrying cannot help; every other error is retried.
type Sender interface {
	Send(ctx context.Context, out Outgoing) error
}

// ErrPermanent marks a send failure that retrying cannot mend: the person
// blocked the bot, opted out, or the address no longer exists.
var ErrPermanent = errors.New("permanent send failure")

// RetryAfter is a send failure the provider asked to retry after a delay.
type RetryAfter struct {
	Delay time.Duration
	Err   error
}

func (e *RetryAfter) Error() string { return "retry after " + e.Delay.String() + ": " + e.Err.Error() }
func (e *RetryAfter) Unwrap() error { return e.Err }
