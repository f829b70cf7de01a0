package runner

import (
	"time"

	"github.com/helpline/helpline/bot"
)

// Meter is told what the dispatcher does, for metrics. Its methods are
// called on the hot path: they must be cheap, safe for concurrent use, and
// never block. Nothing it is told names a person.
type Meter interface {
	// Received is a person's message on ch, committed; duplicate means it
	// was seen before and changed nothing.
	Received(ch bot.Channel, duplicate bool)
	// Committed is one commit's round trip to Redis, which took d.
	Committed(d time.Duration)
	// Alarm is an alert a committed message raised: kind is "danger" or
	// "selfharm" for the safety net's match, "answer" for an answer that
	// raised it; lang is the person's language.
	Alarm(kind, lang string)
}

// DeliveryMeter is told what delivery does, for metrics; like Meter it
// must be cheap and never block. A channel is an outbox entry's channel
// name, "" for a queue operation.
type DeliveryMeter interface {
	// Tried is one try to send an entry, which took d and ended in outcome:
	// SendSent, SendRetry or SendFailed.
	Tried(channel, outcome string, d time.Duration)
	// Dropped is an entry that left the outbox unsent, for reason (the
	// name delivery counts it under, such as "send.gave_up").
	Dropped(channel, reason string)
	// Claimed is n entries the claim loop took over from other consumers:
	// a replica that died, or a hand-over left for later.
	Claimed(n int)
}

// The outcomes of one try to send an outbox entry.
const (
	SendSent   = "sent"   // the sender took it
	SendRetry  = "retry"  // it failed for now: tried again, or left for a later claim
	SendFailed = "failed" // refused for good: the entry is dropped
)

// nopMeter meters nothing.
type nopMeter struct{}

func (nopMeter) Received(bot.Channel, bool)          {}
func (nopMeter) Committed(time.Duration)             {}
func (nopMeter) Alarm(string, string)                {}
func (nopMeter) Tried(string, string, time.Duration) {}
func (nopMeter) Dropped(string, string)              {}
func (nopMeter) Claimed(int)                         {}
