package store

import (
	"hash/fnv"
	"strconv"
	"time"
)

// Every key the helpline writes is named here, with its hash tag and its
// lifetime. The hash tag is the person's partition, {NN}: every key of one
// person and the outbox stream their replies go to share it, so one Lua
// script can commit them together on Redis Cluster too.
//
//	key                      type    holds                                          lifetime
//	P:{NN}:s:<pid>           string  the version, the version of the last reply     Options.SessionTTL after the last message
//	                                 sent, the codes whose case keys are kept, the
//	                                 sealed address and the sealed session (with
//	                                 the open case and its state): see session.go
//	P:{NN}:dd                zset    marks of messages seen (a keyed hash of the    Options.DedupeTTL after the
//	                                 person and the provider's message ID, which    last commit; marks older than
//	                                 names neither), scored by time                 that are trimmed
//	P:{NN}:dd:<window>       string  a bitmap of numbered messages seen (Telegram   Options.DedupeTTL after the
//	                                 updates): SeenWindow numbers, one bit each,    last commit marked in it
//	                                 in a keyed order (secret.Keys.SeenBit)
//	P:{NN}:w:<pid>           stream  replies waiting for the person's web page      Options.MailboxTTL
//	P:{NN}:x:<pid>           string  "1" while nothing may be sent to the person  until lifted (START, unblock)
//	P:{NN}:n:<pid>           string  the Telegram message IDs (both ways) of the    TrailTTL (48h) after the last one
//	                                 last 48h, for clear chat, with their times,
//	                                 delta-encoded and sealed as one
//	P:{NN}:m:<pid>           zset    the same, each ID sealed alone, as a version   TrailTTL after the last one
//	                                 before the sealed trail kept it: read by
//	                                 clear chat, deleted by erase, never written
//	P:{NN}:c:<pid>:<code>    hash    the case on the person's side: sealed intake   Options.SessionTTL while open,
//	                                 card, language, channel, wrap-up               Options.CaseTTL after it ends
//	P:{NN}:t:<pid>:<code>    stream  the case's transcript, each line sealed        as the case hash
//	P:{NN}:out               stream  the outbox of the partition, group "send"      entries deleted once sent or dropped
//	P:{NN}:st:<yyyymmdd>     hash    aggregate counters of the day, no person data  Options.StatsTTL
//	P:tk:<sha256>            string  a web page's one-time ticket to open its       30 seconds, or until used
//	                                 event stream: the person ID
//	P:web                    pubsub  "new reply for <pid>" notes to web chat pages  not stored
//	P:{live}:<consumer>      string  "1" while the replica of that outbox consumer  the heartbeat TTL (3s), renewed
//	                                 is alive; one slot for all, read in one MGET   every second
//
// The counsellor queue and the console live under their own tag, {q}. The
// queue is one ordered set across every person, and a claim must be atomic
// across counsellors, so it cannot share a slot with each person on Redis
// Cluster. Its scripts touch {q} keys only; every write to a person (the
// case state in the session, the transcript, a reply) is a versioned commit on the
// person's tag, and what the queue must learn of a person's step (a new
// case, a raised priority, a new line) travels as an outbox entry of
// channel "case" in the person's partition, applied to {q} by delivery at
// least once, by idempotent scripts. One slot holds the console: it is sized
// by counsellors and cases, not by messages.
//
//	P:{q}:case:<code>        hash    queue record: pid, lang, channel, priority,   none while open (1h while only reserved),
//	                                 topic, flags, state, counsellor, times        Options.CaseTTL after it ends
//	P:{q}:wait               zset    waiting codes, scored urgent first, then age  cases leave it when claimed or ended
//	P:{q}:held:<user>        set     codes a counsellor holds                       members leave when a case moves on
//	P:{q}:active             set     every held code, for supervisors               as above
//	P:{q}:meta               hash    queue figures (average wait), no person data   none
//	P:{q}:u:<user>           hash    a counsellor account: password hash, role,     none (disable, never delete)
//	                                 languages, capacity, disabled
//	P:{q}:users              set     every account name                             none
//	P:{q}:cs:<sha256>        hash    a console session: user, CSRF token           Options.ConsoleTTL
//	P:{q}:lf:<hash>          hash    failed logins under a hash of a name (and an   Options.LoginWindow after the last failure
//	                                 address): n count, t last time
//	P:{q}:online             zset    counsellors by last request time               entries older than a day are trimmed
//	P:console                pubsub  "queue" and "case <code>" notes to consoles,   not stored
//	                                 "logout <hash>" and "disabled <user>" to
//	                                 close the streams of a login that ended
//
// P is Options.Prefix; <pid> the pseudonymous person ID.
type keys struct {
	prefix     string
	partitions int
}

// partition returns the partition of a person ID.
func (k keys) partition(pid string) int {
	h := fnv.New32a()
	h.Write([]byte(pid))
	return int(h.Sum32() % uint32(k.partitions))
}

func (k keys) tag(part int) string {
	return k.prefix + ":{" + strconv.Itoa(part) + "}:"
}

func (k keys) session(pid string) string { return k.tag(k.partition(pid)) + "s:" + pid }
func (k keys) marks(pid string) string   { return k.partMarks(k.partition(pid)) }
func (k keys) partMarks(part int) string { return k.tag(part) + "dd" }
func (k keys) seen(part int, window int64) string {
	return k.tag(part) + "dd:" + strconv.FormatInt(window, 10)
}
func (k keys) mailbox(pid string) string { return k.tag(k.partition(pid)) + "w:" + pid }
func (k keys) outbox(part int) string    { return k.tag(part) + "out" }
func (k keys) stopped(pid string) string { return k.tag(k.partition(pid)) + "x:" + pid }
func (k keys) trail(pid string) string   { return k.tag(k.partition(pid)) + "n:" + pid }
func (k keys) oldTrail(pid string) string {
	return k.tag(k.partition(pid)) + "m:" + pid
}
func (k keys) webChannel() string     { return k.prefix + ":web" }
func (k keys) ticket(h string) string { return k.prefix + ":tk:" + h }
func (k keys) live(consumer string) string {
	return k.prefix + ":{live}:" + consumer
}

func (k keys) caseOf(pid, code string) string {
	return k.tag(k.partition(pid)) + "c:" + pid + ":" + code
}
func (k keys) transcript(pid, code string) string {
	return k.tag(k.partition(pid)) + "t:" + pid + ":" + code
}

// queueTag is the hash tag of the counsellor queue and the console.
func (k keys) queueTag() string               { return k.prefix + ":{q}:" }
func (k keys) queueCase(code string) string   { return k.queueTag() + "case:" + code }
func (k keys) waiting() string                { return k.queueTag() + "wait" }
func (k keys) heldBy(user string) string      { return k.queueTag() + "held:" + user }
func (k keys) active() string                 { return k.queueTag() + "active" }
func (k keys) queueMeta() string              { return k.queueTag() + "meta" }
func (k keys) account(user string) string     { return k.queueTag() + "u:" + user }
func (k keys) accounts() string               { return k.queueTag() + "users" }
func (k keys) consoleSession(h string) string { return k.queueTag() + "cs:" + h }
func (k keys) loginFailures(user string) string {
	return k.queueTag() + "lf:" + user
}
func (k keys) online() string         { return k.queueTag() + "online" }
func (k keys) consoleChannel() string { return k.prefix + ":console" }

func (k keys) stats(part int, day time.Time) string {
	return k.tag(part) + "st:" + day.UTC().Format("20060102")
}

// person lists every key that holds something of the person, with the
// case keys of the codes the session lists as kept: erasing them all
// forgets the person. The marks of messages seen are not among them: they
// name no one, and they must outlive an erase, so that a provider's
// redelivery of an old message is still ignored.
func (k keys) person(pid string, cases []string) []string {
	out := []string{k.session(pid), k.mailbox(pid), k.trail(pid), k.oldTrail(pid)}
	for _, code := range cases {
		out = append(out, k.caseOf(pid, code), k.transcript(pid, code))
	}
	return out
}

// group is the consumer group of every outbox stream.
const group = "send"
