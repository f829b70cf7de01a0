package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Message is one outbox entry.
type Message struct {
	ID      string
	Part    int
	PID     string
	Channel string
	Address []byte // sealed
	Reply   []byte
	// Op is a queue operation, for the queue rather than a sender.
	Op    []byte
	Ref   string
	Final bool
	// Seq is the session version the commit that added the entry wrote: it
	// orders the replies to one person. Zero for queue operations (and for
	// entries written before it was kept).
	Seq int64
	// Deliveries counts how often the entry was handed to a sender; set on
	// claimed entries.
	Deliveries int64
}

// EnsureGroups creates the consumer group of every outbox stream.
func (s *Store) EnsureGroups(ctx context.Context) error {
	for p := range s.opts.Partitions {
		err := s.rdb.XGroupCreateMkStream(ctx, s.keys.outbox(p), group, "0").Err()
		if err != nil && !isBusyGroup(err) {
			return fmt.Errorf("create outbox group: %w", err)
		}
	}
	return nil
}

// ReadOutbox hands consumer the next entries of partition part, waiting up
// to block for one to come.
//
// A stream without its group (a Redis that came back empty, a replica
// promoted with none of the data) gets the group again, so that delivery
// goes on rather than failing until a restart.
func (s *Store) ReadOutbox(ctx context.Context, part int, consumer string, count int64, block time.Duration) ([]Message, error) {
	args := &redis.XReadGroupArgs{
		Group: group, Consumer: consumer, Streams: []string{s.keys.outbox(part), ">"}, Count: count, Block: block,
	}
	res, err := s.rdb.XReadGroup(ctx, args).Result()
	if isNoGroup(err) {
		if err := s.rdb.XGroupCreateMkStream(ctx, s.keys.outbox(part), group, "0").Err(); err != nil && !isBusyGroup(err) {
			return nil, fmt.Errorf("create outbox group again: %w", err)
		}
		res, err = s.rdb.XReadGroup(ctx, args).Result()
	}
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	var out []Message
	for _, st := range res {
		for _, m := range st.Messages {
			out = append(out, message(part, m))
		}
	}
	return out, nil
}

// ClaimOutbox takes over entries that another consumer was handed more than
// minIdle ago and never finished: that consumer died or gave up for now.
func (s *Store) ClaimOutbox(ctx context.Context, part int, consumer string, minIdle time.Duration, count int64) ([]Message, error) {
	key := s.keys.outbox(part)
	msgs, _, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: key, Group: group, Consumer: consumer, MinIdle: minIdle, Start: "0-0", Count: count,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	pending, err := s.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{
		Stream: key, Group: group, Start: msgs[0].ID, End: msgs[len(msgs)-1].ID, Count: int64(len(msgs)), Consumer: consumer,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	counts := make(map[string]int64, len(pending))
	for _, p := range pending {
		counts[p.ID] = p.RetryCount
	}
	out := make([]Message, 0, len(msgs))
	for _, m := range msgs {
		msg := message(part, m)
		msg.Deliveries = counts[m.ID]
		out = append(out, msg)
	}
	return out, nil
}

// Done removes sent or dropped entries from the outbox, recording nothing
// of what was sent.
func (s *Store) Done(ctx context.Context, part int, ids ...string) error {
	sent := make([]Sent, len(ids))
	for i, id := range ids {
		sent[i] = Sent{ID: id}
	}
	return s.DoneMany(ctx, map[int][]Sent{part: sent})
}

// doneLua removes finished entries from an outbox stream and records, in
// the session of each person an entry was sent to, the latest sequence
// number sent ("ls"). A session that is gone (erased, expired) is not made
// again. done(out, kbase, a, nd): out is the stream, the sessions are
// KEYS[kbase+k], and the nd entries are triples from ARGV[a] on (ID, k or 0,
// sequence number). An entry whose k is -1 was sent to the committing person,
// whose session the commit writes anyway: done leaves their session alone and
// returns the latest such sequence number (0 for none) for the commit to
// record (recordSent when the commit writes no session).
const doneLua = `
local function recordSent(key, seq)
  local cur = getSession(key)
  if cur and cur.ls < seq then
    cur.ls = seq
    putSession(key, cur)
  end
end
local function done(out, kbase, a, nd)
  local own = 0
  if nd == 0 then
    return own
  end
  local ids = {}
  for j = 0, nd - 1 do
    local k, seq = tonumber(ARGV[a + 3 * j + 1]), tonumber(ARGV[a + 3 * j + 2])
    ids[j + 1] = ARGV[a + 3 * j]
    if k > 0 then
      recordSent(KEYS[kbase + k], seq)
    elseif k < 0 and seq > own then
      own = seq
    end
  end
  redis.call('XACK', out, 'send', unpack(ids))
  redis.call('XDEL', out, unpack(ids))
  return own
end
`

// doneScript removes finished entries of one partition. KEYS: the outbox,
// then the sessions of the people entries were sent to. ARGV: the number of
// entries, then the triples of doneLua.
var doneScript = redis.NewScript(sessionLua + doneLua + `
done(KEYS[1], 1, 2, tonumber(ARGV[1]))
return 1
`)

// doneArgs appends to keys the session of every person an entry of sent
// was sent to, once each, and returns the triples doneLua reads. An entry
// sent to own (the committing person, when not empty) names no session: its
// index is -1.
func (s *Store) doneArgs(keys []string, sent []Sent, own string) ([]string, []any) {
	base := len(keys)
	index := map[string]int{}
	args := make([]any, 0, 3*len(sent))
	for _, e := range sent {
		k := 0
		switch {
		case e.PID == "":
		case e.PID == own:
			k = -1
		default:
			if k = index[e.PID]; k == 0 {
				keys = append(keys, s.keys.session(e.PID))
				k = len(keys) - base
				index[e.PID] = k
			}
		}
		args = append(args, e.ID, k, e.Seq)
	}
	return keys, args
}

// DoneMany removes sent or dropped entries of several partitions in one
// pipeline (one round trip on a single Redis, one per node on a Cluster),
// and records what was sent to whom (Sent).
func (s *Store) DoneMany(ctx context.Context, sent map[int][]Sent) error {
	err := s.doneMany(ctx, sent)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		// A Redis that restarted has forgotten the script: load it, once.
		if err = doneScript.Load(ctx, s.rdb).Err(); err == nil {
			err = s.doneMany(ctx, sent)
		}
	}
	if err != nil {
		return fmt.Errorf("finish outbox entries: %w", err)
	}
	return nil
}

func (s *Store) doneMany(ctx context.Context, sent map[int][]Sent) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for part, list := range sent {
			for len(list) > 0 {
				n := min(len(list), MaxDone)
				keys, args := s.doneArgs([]string{s.keys.outbox(part)}, list[:n], "")
				doneScript.EvalSha(ctx, p, keys, append([]any{n}, args...)...)
				list = list[n:]
			}
		}
		return nil
	})
	return err
}

// Count adds one to an aggregate counter of today.
func (s *Store) Count(ctx context.Context, part int, name string, now time.Time) error {
	key := s.keys.stats(part, now)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, key, name, 1)
		p.Expire(ctx, key, s.opts.StatsTTL)
		return nil
	})
	return err
}

func message(part int, m redis.XMessage) Message {
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	msg := Message{
		ID: m.ID, Part: part, PID: str("p"), Channel: str("c"),
		Address: []byte(str("a")), Reply: []byte(str("r")), Ref: str("f"), Final: str("x") == "1",
	}
	msg.Seq, _ = strconv.ParseInt(str("s"), 10, 64)
	if op := str("o"); op != "" {
		msg.Op = []byte(op)
	}
	return msg
}

// MailItem is one reply waiting in a web chat mailbox.
type MailItem struct {
	ID      string
	Payload []byte
}

// Deliver puts a reply in the person's web mailbox and tells every replica's
// web chat about it. A final reply is only announced, never kept: the person
// asked to be forgotten.
func (s *Store) Deliver(ctx context.Context, pid string, payload []byte, final bool) error {
	key := s.keys.mailbox(pid)
	note := pid
	if final {
		note = pid + " " + string(payload)
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if !final {
			p.XAdd(ctx, &redis.XAddArgs{Stream: key, MaxLen: 100, Approx: true, Values: []any{"r", payload}})
			p.Expire(ctx, key, s.opts.MailboxTTL)
		}
		p.Publish(ctx, s.keys.webChannel(), note)
		return nil
	})
	if err != nil {
		return fmt.Errorf("deliver to web mailbox: %w", err)
	}
	return nil
}

// Mailbox returns the replies in the person's web mailbox after the entry
// ID after ("" for all).
func (s *Store) Mailbox(ctx context.Context, pid, after string) ([]MailItem, error) {
	start := "-"
	if after != "" {
		start = "(" + after
	}
	msgs, err := s.rdb.XRange(ctx, s.keys.mailbox(pid), start, "+").Result()
	if err != nil {
		return nil, fmt.Errorf("read web mailbox: %w", err)
	}
	out := make([]MailItem, len(msgs))
	for i, m := range msgs {
		r, _ := m.Values["r"].(string)
		out[i] = MailItem{ID: m.ID, Payload: []byte(r)}
	}
	return out, nil
}

// Notes delivers the web notifications on a channel until ctx ends or stop
// is called.
func (s *Store) Notes(ctx context.Context) (<-chan string, func()) {
	return s.subscribe(ctx, s.keys.webChannel())
}

// subscribe delivers the messages of a pub/sub channel until ctx ends or
// stop is called. It returns once the subscription is in place, so nothing
// published after it returns is missed.
func (s *Store) subscribe(ctx context.Context, channel string) (<-chan string, func()) {
	sub := s.rdb.Subscribe(ctx, channel)
	// An error here means Redis is not answering now; go-redis subscribes
	// again when it reconnects, and the channel below follows it.
	sub.Receive(ctx)
	out := make(chan string, 64)
	go func() {
		defer close(out)
		for m := range sub.Channel() {
			select {
			case out <- m.Payload:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, func() { sub.Close() }
}

// ParseWebNote splits a web notification into the person ID and the final
// reply, if any.
func ParseWebNote(note string) (pid string, final []byte) {
	pid, rest, ok := strings.Cut(note, " ")
	if !ok {
		return pid, nil
	}
	return pid, []byte(rest)
}

// TicketTTL is how long a web page's stream ticket may wait to be used.
const TicketTTL = 30 * time.Second

// Ticket makes a one-time ticket that opens the person's event stream. The
// page's token never travels in a URL, where proxies log it; a ticket in
// a log is spent, or dead within TicketTTL. Redis keeps only its hash.
func (s *Store) Ticket(ctx context.Context, pid string) (string, error) {
	b := make([]byte, 18)
	rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	if err := s.rdb.Set(ctx, s.keys.ticket(ticketHash(t)), pid, TicketTTL).Err(); err != nil {
		return "", fmt.Errorf("save stream ticket: %w", err)
	}
	return t, nil
}

// Redeem spends a ticket and returns its person; ok is false when the
// ticket is unknown, spent or expired.
func (s *Store) Redeem(ctx context.Context, ticket string) (pid string, ok bool, err error) {
	pid, err = s.rdb.GetDel(ctx, s.keys.ticket(ticketHash(ticket))).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("redeem stream ticket: %w", err)
	}
	return pid, true, nil
}

func ticketHash(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}
