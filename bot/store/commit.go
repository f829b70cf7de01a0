package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Outcome says what a commit did.
type Outcome int

// The outcomes of a commit.
const (
	// Committed: the session, the replies and the counters are stored.
	Committed Outcome = iota + 1
	// Duplicate: the message was seen before; nothing changed.
	Duplicate
	// Conflict: another message of the person was committed since the
	// session was read; nothing changed. Read again and step again.
	Conflict
)

// Entry is one reply for the outbox.
type Entry struct {
	Channel string
	Reply   []byte // the encoded reply
	Ref     string
	// Final marks the last reply to a person who asked to be forgotten: a
	// web page gets it without it being kept in a mailbox.
	Final bool
}

// Commit is everything one inbound message changes, written at once.
type Commit struct {
	PID string
	// Version is the version the session was read at.
	Version int64
	// Session is the new session; nil erases every key of the person.
	Session []byte
	// Address is the sealed address, kept with the session and written on
	// every outbox entry so a reply can be sent after an erase.
	Address []byte
	// MsgID is the provider's message ID; empty when the channel has none.
	MsgID  string
	Now    time.Time
	Out    []Entry
	Counts []string
}

// commitScript applies a commit atomically. Every key it touches shares the
// person's hash tag.
//
// KEYS: session, dedupe, outbox, stats, then the other keys of the person
// (deleted on erase).
// ARGV: version, session ("" erases), address, session TTL, message ID, now,
// dedupe TTL, stats TTL, pid, number of entries, then 4 values per entry
// (channel, reply, ref, final), then counter names.
var commitScript = redis.NewScript(`
local msg = ARGV[5]
if msg ~= '' and redis.call('ZSCORE', KEYS[2], msg) then
  return 0
end
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[1]) then
  return -1
end
local now = tonumber(ARGV[6])
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1], KEYS[2], unpack(KEYS, 5))
else
  redis.call('HSET', KEYS[1], 'v', v + 1, 'd', ARGV[2], 'a', ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  if msg ~= '' then
    local ttl = tonumber(ARGV[7])
    redis.call('ZADD', KEYS[2], now, msg)
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
    redis.call('EXPIRE', KEYS[2], ttl)
  end
end
local n = tonumber(ARGV[10])
local i = 11
for _ = 1, n do
  redis.call('XADD', KEYS[3], '*', 'p', ARGV[9], 'c', ARGV[i], 'a', ARGV[3], 'r', ARGV[i+1], 'f', ARGV[i+2], 'x', ARGV[i+3])
  i = i + 4
end
if i <= #ARGV then
  for j = i, #ARGV do
    redis.call('HINCRBY', KEYS[4], ARGV[j], 1)
  end
  redis.call('EXPIRE', KEYS[4], ARGV[8])
end
return 1
`)

// Commit writes c atomically, in one round trip: it ignores a message seen
// before, refuses a stale version, stores the session with its lifetime,
// appends the replies to the outbox and adds to the counters.
func (s *Store) Commit(ctx context.Context, c Commit) (Outcome, error) {
	part := s.keys.partition(c.PID)
	keys := []string{s.keys.session(c.PID), s.keys.dedupe(c.PID), s.keys.outbox(part), s.keys.stats(part, c.Now)}
	if c.Session == nil {
		keys = append(keys, s.keys.person(c.PID)[2:]...)
	}
	args := make([]any, 0, 10+4*len(c.Out)+len(c.Counts))
	args = append(args, c.Version, c.Session, c.Address, int64(s.opts.SessionTTL/time.Second),
		c.MsgID, c.Now.Unix(), int64(s.opts.DedupeTTL/time.Second), int64(s.opts.StatsTTL/time.Second),
		c.PID, len(c.Out))
	for _, e := range c.Out {
		final := ""
		if e.Final {
			final = "1"
		}
		args = append(args, e.Channel, e.Reply, e.Ref, final)
	}
	for _, name := range c.Counts {
		args = append(args, name)
	}
	n, err := commitScript.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	switch n {
	case 1:
		return Committed, nil
	case 0:
		return Duplicate, nil
	}
	return Conflict, nil
}
