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
//	P:{NN}:s:<pid>           hash    v version, d session, a sealed address        Options.SessionTTL after the last message
//	P:{NN}:d:<pid>           zset    provider message IDs seen, scored by time      Options.DedupeTTL
//	P:{NN}:w:<pid>           stream  replies waiting for the person's web page      Options.MailboxTTL
//	P:{NN}:x:<pid>           string  "1" while nothing may be sent to the person  until lifted (START, unblock)
//	P:{NN}:out               stream  the outbox of the partition, group "send"      entries deleted once sent or dropped
//	P:{NN}:st:<yyyymmdd>     hash    aggregate counters of the day, no person data  Options.StatsTTL
//	P:web                    pubsub  "new reply for <pid>" notes to web chat pages  not stored
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
func (k keys) dedupe(pid string) string  { return k.tag(k.partition(pid)) + "d:" + pid }
func (k keys) mailbox(pid string) string { return k.tag(k.partition(pid)) + "w:" + pid }
func (k keys) outbox(part int) string    { return k.tag(part) + "out" }
func (k keys) stopped(pid string) string { return k.tag(k.partition(pid)) + "x:" + pid }
func (k keys) webChannel() string        { return k.prefix + ":web" }

func (k keys) stats(part int, day time.Time) string {
	return k.tag(part) + "st:" + day.UTC().Format("20060102")
}

// person lists every key that holds something of the person: erasing them
// all forgets the person.
func (k keys) person(pid string) []string {
	return []string{k.session(pid), k.dedupe(pid), k.mailbox(pid)}
}

// group is the consumer group of every outbox stream.
const group = "send"
