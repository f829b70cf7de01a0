package bot

import (
	"errors"
	"time"
)

// Case is a counsellor case as the queue knows it: no intake card, no
// transcript, no address.
type Case struct {
	// Code names the case; it is what the console shows and links to.
	Code string
	// PID is the person's ID, under which their side of the case is kept.
	PID      string
	Lang     string
	Channel  Channel
	Priority Priority
	// Topic is the subject the flow's handoff names.
	Topic string
	// Flags are the risk flags of the case, in the order they were raised.
	Flags []string
	State QueueState
	// Counsellor is who holds the case; empty while it waits.
	Counsellor string
	// Created is when the case was first queued: its waiting time counts
	// from then, even after a transfer back to the queue.
	Created time.Time
	// Claimed is when the holder took the case; zero while it waits.
	Claimed time.Time
	// Wrap is the wrap-up category the case ended with.
	Wrap string
	// Transferred is true when a counsellor passed the case on.
	Transferred bool
}

// QueueState is where a case stands in the queue. Its values are the ones
// the store keeps.
type QueueState string

// The states of a case in the queue.
const (
	// InQueue: the case waits for a counsellor.
	InQueue QueueState = "wait"
	// WithCounsellor: a counsellor holds the case.
	WithCounsellor QueueState = "held"
	// Closed: the case ended; its record is kept for a while, then gone.
	Closed QueueState = "ended"
)

// Counsellor is who acts in the console.
type Counsellor struct {
	Name string
	// Langs are the languages the counsellor speaks.
	Langs []string
	// Capacity is how many cases the counsellor may hold at once.
	Capacity int
	// Supervisor may read and act on any open case.
	Supervisor bool
}

// Line is one line of a case's transcript, opened.
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
	Case
	// Card is the intake card: the person's answers, by field.
	Card  map[string]string
	Lines []Line
	// Note is the wrap-up note the counsellor left when the case ended.
	Note string
	// Mine is true when the viewer holds the case.
	Mine bool
	// Left says why the person is no longer in the case, when they are
	// not: one of the Left values.
	Left string
}

// Why a person is no longer in a case: the wrap-up the queue closed it
// with, or a stop.
const (
	// LeftCancelled: the person cancelled the request.
	LeftCancelled = "cancelled"
	// LeftErased: the person asked to be forgotten.
	LeftErased = "erased"
	// LeftGone: the person's side of the case is gone (the session
	// expired, or the person moved on).
	LeftGone = "gone"
	// LeftStopped: the person sent STOP or blocked the bot; nothing
	// reaches them.
	LeftStopped = "stopped"
)

// The errors of acting on a case, for the console to explain.
var (
	// ErrTaken means another counsellor claimed the case first, or it
	// ended.
	ErrTaken = errors.New("the case is no longer waiting")
	// ErrFull means the counsellor holds as many cases as they may.
	ErrFull = errors.New("the counsellor holds as many cases as they may")
	// ErrLanguage means the case waits for a counsellor of its language.
	ErrLanguage = errors.New("the case waits for a counsellor of its language")
	// ErrNotYours means another counsellor holds the case.
	ErrNotYours = errors.New("another counsellor holds the case")
	// ErrNoCase means there is no such case.
	ErrNoCase = errors.New("no such case")
	// ErrCaseGone means the person's side of a case is gone: they erased
	// the chat, cancelled, or the case ended.
	ErrCaseGone = errors.New("the person's case is gone")
)
