package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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

// Entry is one outbox entry: a reply to the person on Channel, or an
// operation for the counsellor queue (Op), which delivery applies to the
// queue instead of sending.
type Entry struct {
	Channel string
	Reply   []byte // the reply, as bot.Reply.MarshalBinary encodes it, sealed with the person's key
	Op      []byte // a queue operation, as its owner encodes it
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
	// MsgID marks the message as seen: a keyed hash of the person and the
	// provider's message ID (secret.Keys.Mark), so that the mark names
	// neither; empty when the channel has none.
	MsgID string
	// Seen, when set, marks the message as seen by a bit of the partition's
	// bitmaps (secret.Keys.SeenBit) instead of adding MsgID to its marks:
	// a bit costs a few bytes of memory where a mark costs a hundred. MsgID
	// is then only looked up among the marks, where a version before the
	// bitmaps put the marks of numbered messages.
	Seen   *SeenBit
	Now    time.Time
	Out    []Entry
	Counts []string
	// Case, when not nil, changes the person's counsellor case in the same
	// step: it is written only if the session is.
	Case *CaseWrite
	// Kept lists the codes of the person's kept cases (Record.Kept): an
	// erase deletes their keys too.
	Kept []string
	// Start is the version a session created by this commit gets; zero
	// means 1. A random start makes a version number never come back after
	// an erase, so a replica that remembers a session can trust the
	// version check to tell it whether the session is still the one it
	// remembers.
	Start int64
	// Done lists outbox entries of the person's partition that were sent
	// or dropped: the commit removes them from the outbox, whatever its
	// outcome, saving delivery a round trip of its own, and records what
	// was sent to whom (Sent). At most MaxDone.
	Done []Sent
}

// Sent is an outbox entry delivery finished with, for removal. When PID is
// set the entry was sent to that person, and its removal records Seq as the
// last reply the person was sent, if it is later than the one recorded: a
// late copy of an older reply is then known to be stale (Store.Stale).
// Entries dropped, or queue operations, leave PID empty.
type Sent struct {
	ID  string
	PID string
	Seq int64
}

// SeenBit is the bit that marks a numbered message as seen.
type SeenBit struct {
	Window int64
	Bit    int
}

// MaxDone is the most entries one commit removes from the outbox.
const MaxDone = 256

// CaseWrite is what one commit changes of a person's counsellor case.
type CaseWrite struct {
	Code string
	// Kept, when not empty, replaces the list of codes whose keys are kept.
	Kept []string
	// Fields are field/value pairs set on the person's case hash.
	Fields []string
	// Lines are added to the transcript, in order (their Time is the
	// transcript's own).
	Lines []Line
	// TTL is the new lifetime of the case hash and transcript; zero leaves
	// it.
	TTL time.Duration
}

// commitScript applies a commit atomically. Every key it touches shares the
// person's hash tag.
//
// KEYS: session, marks of messages seen, outbox, stats, the bitmap of
// messages seen (the marks again when unused), the sessions of the other
// people finished entries were sent to (doneArgs), then either the case
// hash and the transcript (a case write) or the other keys of the person
// (an erase).
// ARGV: version, session ("" erases), address, session TTL, message ID
// (its mark, then, for a message marked by a bit, a space and the bit), now,
// dedupe TTL, stats TTL, pid, claiming consumer ("" for none), start
// version of a new session, the number of finished outbox entries, the
// number of their sessions, and per entry its ID, the index of its session
// among them (0 for none, -1 for the committing person) and its sequence
// number, then the case write (kept; case TTL; number of field pairs, the
// pairs; number of transcript lines, who and line of each), then the number
// of entries and 5 values per entry (channel, reply, ref, final, queue
// operation), then counter names.
var commitScript = redis.NewScript(sessionLua + doneLua + `
local nd, nk = tonumber(ARGV[12]), tonumber(ARGV[13])
-- What was sent to the committing person is recorded with their session:
-- when the commit writes it, or else before it returns.
local own = done(KEYS[3], 5, 14, nd)
local kb = 5 + nk -- where the case or erase keys begin
local function duplicate()
  if own > 0 then
    recordSent(KEYS[1], own)
  end
  return 0
end
local msg = ARGV[5]
local now = tonumber(ARGV[6])
local bit
local sp = string.find(msg, ' ', 1, true)
if sp then
  bit = tonumber(string.sub(msg, sp + 1))
  msg = string.sub(msg, 1, sp - 1)
end
-- The dedupe mark goes in first: a message seen before adds nothing.
if bit then
  -- A bitmap is made whole at once: one grown bit by bit takes twice the
  -- memory. It lives as the marks do.
  if redis.call('ZSCORE', KEYS[2], msg) then
    return duplicate()
  end
  -- EXPIRE answers 0 when there is no bitmap yet: one call both keeps the
  -- bitmap alive and tells whether it must be made.
  if redis.call('EXPIRE', KEYS[5], ARGV[7]) == 0 then
    redis.call('SET', KEYS[5], string.rep('\0', 512), 'EX', ARGV[7])
  end
  if redis.call('SETBIT', KEYS[5], bit, 1) == 1 then
    return duplicate()
  end
elseif msg ~= '' and redis.call('ZADD', KEYS[2], 'NX', now, msg) == 0 then
  return duplicate()
end
local cur = getSession(KEYS[1])
local v = cur and cur.v or 0
if v ~= tonumber(ARGV[1]) then
  if bit then
    redis.call('SETBIT', KEYS[5], bit, 0)
  elseif msg ~= '' then
    redis.call('ZREM', KEYS[2], msg)
  end
  if cur and cur.ls < own then
    cur.ls = own
    putSession(KEYS[1], cur)
  end
  return -1
end
local claim = ARGV[10]
local nv = v + 1
if v == 0 and tonumber(ARGV[11]) > 0 then
  nv = tonumber(ARGV[11])
end
local i = 14 + 3 * nd
local function arg()
  i = i + 1
  return ARGV[i - 1]
end
local kept, cttl = arg(), tonumber(arg())
local pairs = tonumber(arg())
local fields = {}
for j = 1, 2 * pairs do
  fields[j] = arg()
end
local nlines = tonumber(arg())
local lines = {}
for j = 1, 2 * nlines do
  lines[j] = arg()
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1], unpack(KEYS, kb + 1))
else
  if kept == '' then
    kept = cur and cur.k or ''
  end
  putSession(KEYS[1], {v = nv, ls = cur and math.max(cur.ls, own) or 0, a = ARGV[3], k = kept, d = ARGV[2]}, ARGV[4])
  if msg ~= '' and not bit then
    -- Marks older than the TTL go every 16th commit: a few more marks
    -- kept for a while cost less than a call on every commit.
    local ttl = tonumber(ARGV[7])
    if nv % 16 == 0 then
      redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
    end
    redis.call('EXPIRE', KEYS[2], ttl)
  end
  if pairs > 0 then
    redis.call('HSET', KEYS[kb + 1], unpack(fields))
  end
  for j = 1, 2 * nlines, 2 do
    redis.call('XADD', KEYS[kb + 2], '*', 'w', lines[j], 'x', lines[j + 1])
  end
  if cttl > 0 then
    redis.call('EXPIRE', KEYS[kb + 1], cttl)
    redis.call('EXPIRE', KEYS[kb + 2], cttl)
  end
end
local n = tonumber(arg())
local added = {}
for _ = 1, n do
  local id
  if ARGV[i+4] ~= '' then
    id = redis.call('XADD', KEYS[3], '*', 'p', ARGV[9], 'a', ARGV[3], 'o', ARGV[i+4])
  else
    id = redis.call('XADD', KEYS[3], '*', 'p', ARGV[9], 's', nv, 'c', ARGV[i], 'a', ARGV[3], 'r', ARGV[i+1], 'f', ARGV[i+2], 'x', ARGV[i+3])
  end
  added[id] = true
  i = i + 5
end
-- A counter at 1 is the day's first: only then does the key need its
-- lifetime.
local first = false
for j = i, #ARGV do
  if redis.call('HINCRBY', KEYS[4], ARGV[j], 1) == 1 then
    first = true
  end
end
if first then
  redis.call('EXPIRE', KEYS[4], ARGV[8])
end
if claim ~= '' and n > 0 then
  -- Hand the new entries to the committing replica at once. Without the
  -- group (before delivery first ran) they wait for a reader as usual. The
  -- committer knows what it added: those come back as their IDs alone.
  local ok, res = pcall(redis.call, 'XREADGROUP', 'GROUP', 'send', claim, 'COUNT', 64, 'STREAMS', KEYS[3], '>')
  if ok and res then
    local out = {}
    for k, e in ipairs(res[1][2]) do
      if added[e[1]] then
        out[k] = e[1]
      else
        out[k] = e
      end
    end
    return {1, out}
  end
end
return 1
`)

// Commit writes c atomically, in one round trip: it ignores a message seen
// before, refuses a stale version, stores the session with its lifetime,
// appends the replies to the outbox and adds to the counters.
func (s *Store) Commit(ctx context.Context, c Commit) (Outcome, error) {
	o, _, err := s.CommitClaim(ctx, c, "")
	return o, err
}

// CommitClaim is Commit that also hands the outbox entries it added, and any
// others of the partition no consumer took yet, to consumer in the same
// round trip, as ReadOutbox would: the committing replica sends them at once
// instead of waiting for its reader to wake.
func (s *Store) CommitClaim(ctx context.Context, c Commit, consumer string) (Outcome, []Message, error) {
	if len(c.Done) > MaxDone {
		return 0, nil, fmt.Errorf("commit: %d finished entries, at most %d", len(c.Done), MaxDone)
	}
	part := s.keys.partition(c.PID)
	keys, args := s.commitArgs(c, consumer)
	res, err := s.commits.of(ctx, keys[0]).run(ctx, keys, args...)
	if err != nil {
		return 0, nil, fmt.Errorf("commit: %w", err)
	}
	switch res := res.(type) {
	case int64:
		switch res {
		case 1:
			return Committed, nil, nil
		case 0:
			return Duplicate, nil, nil
		}
		return Conflict, nil, nil
	case []any:
		if len(res) == 2 {
			return Committed, claimed(part, c, res[1]), nil
		}
	}
	return 0, nil, fmt.Errorf("commit: unexpected answer %T", res)
}

// commitArgs makes the keys and arguments of commitScript for c.
func (s *Store) commitArgs(c Commit, consumer string) ([]string, []any) {
	part := s.keys.partition(c.PID)
	msg, bits := c.MsgID, s.keys.marks(c.PID)
	if c.Seen != nil {
		msg = c.MsgID + " " + strconv.Itoa(c.Seen.Bit)
		bits = s.keys.seen(part, c.Seen.Window)
	}
	keys := []string{s.keys.session(c.PID), s.keys.marks(c.PID), s.keys.outbox(part), s.keys.stats(part, c.Now), bits}
	keys, done := s.doneArgs(keys, c.Done, c.PID)
	var extra []string
	switch {
	case c.Session == nil:
		extra = s.keys.person(c.PID, c.Kept)[1:]
	case c.Case != nil:
		extra = []string{s.keys.caseOf(c.PID, c.Case.Code), s.keys.transcript(c.PID, c.Case.Code)}
	}
	args := make([]any, 0, 22+len(done)+5*len(c.Out)+len(c.Counts))
	args = append(args, c.Version, c.Session, c.Address, int64(s.opts.SessionTTL/time.Second),
		msg, c.Now.Unix(), int64(s.opts.DedupeTTL/time.Second), int64(s.opts.StatsTTL/time.Second),
		c.PID, consumer, c.Start, len(c.Done), len(keys)-5)
	args = append(args, done...)
	keys = append(keys, extra...)
	args = appendCaseArgs(args, c.Case)
	args = append(args, len(c.Out))
	for _, e := range c.Out {
		final := ""
		if e.Final {
			final = "1"
		}
		args = append(args, e.Channel, e.Reply, e.Ref, final, e.Op)
	}
	for _, name := range c.Counts {
		args = append(args, name)
	}
	return keys, args
}

// claimed reads the entries XREADGROUP returned inside the commit script:
// the IDs of the entries c added, in order, and [id, [field, value, ...]]
// for any other entry.
func claimed(part int, c Commit, v any) []Message {
	seq := c.Version + 1 // the version the commit wrote, as the script sets it
	if c.Version == 0 && c.Start > 0 {
		seq = c.Start
	}
	list, _ := v.([]any)
	out := make([]Message, 0, len(list))
	own := c.Out
	for _, e := range list {
		if id, ok := e.(string); ok {
			if len(own) == 0 {
				continue // cannot happen: the script added no more
			}
			out = append(out, Message{
				ID: id, Part: part, PID: c.PID, Channel: own[0].Channel, Address: c.Address,
				Reply: own[0].Reply, Op: own[0].Op, Ref: own[0].Ref, Final: own[0].Final,
			})
			if own[0].Op == nil {
				out[len(out)-1].Seq = seq
			}
			own = own[1:]
			continue
		}
		pair, ok := e.([]any)
		if !ok || len(pair) != 2 {
			continue
		}
		id, _ := pair[0].(string)
		kv, _ := pair[1].([]any)
		values := make(map[string]any, len(kv)/2)
		for j := 0; j+1 < len(kv); j += 2 {
			if k, ok := kv[j].(string); ok {
				values[k] = kv[j+1]
			}
		}
		out = append(out, message(part, redis.XMessage{ID: id, Values: values}))
	}
	return out
}

// appendCaseArgs appends the case write's arguments of commitScript.
func appendCaseArgs(args []any, w *CaseWrite) []any {
	if w == nil {
		return append(args, "", 0, 0, 0)
	}
	args = append(args, strings.Join(w.Kept, " "), int64(w.TTL/time.Second), len(w.Fields)/2)
	for _, f := range w.Fields[:len(w.Fields)/2*2] {
		args = append(args, f)
	}
	args = append(args, len(w.Lines))
	for _, l := range w.Lines {
		args = append(args, l.Who, l.Sealed)
	}
	return args
}
