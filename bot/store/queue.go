package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline/helpline/bot"
)

// maxPriority is the highest priority: one waiting set per priority.
const maxPriority = int(bot.Urgent)

// reserveTTL is how long a reserved code waits for its case.
const reserveTTL = time.Hour

// Reserve claims code for the person's next case, so that no two cases
// share a code; false means the code is taken.
func (s *Store) Reserve(ctx context.Context, code, pid string) (bool, error) {
	key := s.keys.queueCase(code)
	ok, err := s.rdb.HSetNX(ctx, key, "pid", pid).Result()
	if err != nil {
		return false, fmt.Errorf("reserve case code: %w", err)
	}
	if ok {
		s.rdb.Expire(ctx, key, reserveTTL)
	}
	return ok, nil
}

func (s *Store) waitKeys() []string {
	return []string{s.keys.waiting() + ":0", s.keys.waiting() + ":1", s.keys.waiting() + ":2"}
}

// enqueueScript puts a new case in the queue, once.
// KEYS: case, wait0, wait1, wait2. ARGV: code, pid, lang, channel,
// priority, topic, flags, created (ms).
var enqueueScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'st') then
  return 0
end
local owner = redis.call('HGET', KEYS[1], 'pid')
if owner and owner ~= ARGV[2] then
  return -1
end
redis.call('HSET', KEYS[1], 'pid', ARGV[2], 'lang', ARGV[3], 'ch', ARGV[4], 'pr', ARGV[5], 'tp', ARGV[6], 'fl', ARGV[7], 'ct', ARGV[8], 'st', 'wait')
redis.call('PERSIST', KEYS[1])
redis.call('ZADD', KEYS[2 + tonumber(ARGV[5])], ARGV[8], ARGV[1])
return 1
`)

// Enqueue puts a new case in the queue. It is idempotent: a case already
// queued (or over) is left as it is, and reported false.
func (s *Store) Enqueue(ctx context.Context, c bot.Case) (bool, error) {
	keys := append([]string{s.keys.queueCase(c.Code)}, s.waitKeys()...)
	n, err := enqueueScript.Run(ctx, s.rdb, keys, c.Code, c.PID, c.Lang, string(c.Channel), clampPriority(c.Priority),
		c.Topic, strings.Join(c.Flags, " "), c.Created.UnixMilli()).Int()
	if err != nil {
		return false, fmt.Errorf("enqueue case: %w", err)
	}
	if n < 0 {
		return false, fmt.Errorf("enqueue case %s: the code belongs to another person", c.Code)
	}
	return n == 1, nil
}

// clampPriority is the number a priority is stored as: its waiting set.
func clampPriority(p bot.Priority) int { return min(int(p), maxPriority) }

// raiseScript raises an open case's priority and adds flags.
// KEYS: case, wait0, wait1, wait2. ARGV: code, priority, flags.
var raiseScript = redis.NewScript(`
local c = redis.call('HMGET', KEYS[1], 'st', 'pr', 'ct', 'fl')
if c[1] ~= 'wait' and c[1] ~= 'held' then
  return 0
end
local fl = ' ' .. (c[4] or '') .. ' '
for f in string.gmatch(ARGV[3], '%S+') do
  if not string.find(fl, ' ' .. f .. ' ', 1, true) then
    fl = fl .. f .. ' '
  end
end
redis.call('HSET', KEYS[1], 'fl', string.sub(fl, 2, -2))
local old, new = tonumber(c[2]), tonumber(ARGV[2])
if new > old then
  redis.call('HSET', KEYS[1], 'pr', new)
  if c[1] == 'wait' then
    redis.call('ZREM', KEYS[2 + old], ARGV[1])
    redis.call('ZADD', KEYS[2 + new], c[3], ARGV[1])
  end
end
return 1
`)

// Raise lifts an open case to priority p (never lowers it) and adds flags.
func (s *Store) Raise(ctx context.Context, code string, p bot.Priority, flags []string) error {
	keys := append([]string{s.keys.queueCase(code)}, s.waitKeys()...)
	err := raiseScript.Run(ctx, s.rdb, keys, code, clampPriority(p), strings.Join(flags, " ")).Err()
	if err != nil {
		return fmt.Errorf("raise case: %w", err)
	}
	return nil
}

// claimScript gives a waiting case to a counsellor: one of two at once wins.
// KEYS: case, wait0, wait1, wait2, held by the counsellor, active, meta.
// ARGV: code, counsellor, capacity, now (s), interpreter after (s),
// languages (" en ru ").
var claimScript = redis.NewScript(`
local c = redis.call('HMGET', KEYS[1], 'st', 'lang', 'ct', 'pr')
if c[1] ~= 'wait' then
  return 0
end
if redis.call('SCARD', KEYS[5]) >= tonumber(ARGV[3]) then
  return -1
end
local now = tonumber(ARGV[4])
local waited = now - math.floor(tonumber(c[3]) / 1000)
if not string.find(ARGV[6], ' ' .. c[2] .. ' ', 1, true) and waited < tonumber(ARGV[5]) then
  return -2
end
redis.call('HSET', KEYS[1], 'st', 'held', 'who', ARGV[2], 'cl', now)
redis.call('ZREM', KEYS[2 + tonumber(c[4])], ARGV[1])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('SADD', KEYS[6], ARGV[1])
local avg = tonumber(redis.call('HGET', KEYS[7], 'avg') or '-1')
if avg < 0 then
  avg = waited
else
  avg = avg * 0.8 + waited * 0.2
end
redis.call('HSET', KEYS[7], 'avg', math.floor(avg))
return 1
`)

// Claim gives a waiting case to counsellor, who speaks langs and may hold
// capacity cases. A case of another language may be claimed once it has
// waited interpreter. Of two claims at once, one wins: the other gets
// bot.ErrTaken.
func (s *Store) Claim(ctx context.Context, code, counsellor string, langs []string, capacity int, interpreter time.Duration, now time.Time) error {
	keys := append([]string{s.keys.queueCase(code)}, s.waitKeys()...)
	keys = append(keys, s.keys.heldBy(counsellor), s.keys.active(), s.keys.queueMeta())
	n, err := claimScript.Run(ctx, s.rdb, keys, code, counsellor, capacity, now.Unix(),
		int64(interpreter/time.Second), " "+strings.Join(langs, " ")+" ").Int()
	if err != nil {
		return fmt.Errorf("claim case: %w", err)
	}
	return claimResult(n)
}

func claimResult(n int) error {
	switch n {
	case 1:
		return nil
	case -1:
		return bot.ErrFull
	case -2:
		return bot.ErrLanguage
	case -3:
		return bot.ErrNotYours
	}
	return bot.ErrTaken
}

// moveScript passes a held case back to the queue or to another counsellor.
// KEYS: case, wait0, wait1, wait2, held by the holder, held by the new
// counsellor, active. ARGV: code, holder, new counsellor ("" for the
// queue), its capacity, acting user.
var moveScript = redis.NewScript(`
local c = redis.call('HMGET', KEYS[1], 'st', 'who', 'ct', 'pr')
if c[1] ~= 'held' then
  return 0
end
if c[2] ~= ARGV[2] then
  return -3
end
if ARGV[3] == '' then
  redis.call('HSET', KEYS[1], 'st', 'wait', 'tr', '1')
  redis.call('HDEL', KEYS[1], 'who', 'cl')
  redis.call('SREM', KEYS[5], ARGV[1])
  redis.call('SREM', KEYS[7], ARGV[1])
  redis.call('ZADD', KEYS[2 + tonumber(c[4])], c[3], ARGV[1])
  return 1
end
if redis.call('SCARD', KEYS[6]) >= tonumber(ARGV[4]) then
  return -1
end
redis.call('HSET', KEYS[1], 'who', ARGV[3], 'tr', '1')
redis.call('SREM', KEYS[5], ARGV[1])
redis.call('SADD', KEYS[6], ARGV[1])
return 1
`)

// Transfer passes a case that holder holds back to the queue (to == "")
// or to counsellor to, who may hold capacity cases. The case keeps its
// place: its waiting time counts from when it was first queued.
func (s *Store) Transfer(ctx context.Context, code, holder, to string, capacity int) error {
	target := to
	if target == "" {
		target = holder
	}
	keys := append([]string{s.keys.queueCase(code)}, s.waitKeys()...)
	keys = append(keys, s.keys.heldBy(holder), s.keys.heldBy(target), s.keys.active())
	n, err := moveScript.Run(ctx, s.rdb, keys, code, holder, to, capacity).Int()
	if err != nil {
		return fmt.Errorf("transfer case: %w", err)
	}
	return claimResult(n)
}

// finishScript ends an open case.
// KEYS: case, wait0, wait1, wait2, held by the holder, active. ARGV: code,
// holder ("" when waiting), wrap-up, now (s), TTL (s).
var finishScript = redis.NewScript(`
local c = redis.call('HMGET', KEYS[1], 'st', 'who', 'pr')
if c[1] ~= 'wait' and c[1] ~= 'held' then
  return 0
end
if (c[2] or '') ~= ARGV[2] then
  return -3
end
redis.call('HSET', KEYS[1], 'st', 'ended', 'wr', ARGV[3], 'en', ARGV[4])
redis.call('ZREM', KEYS[2 + tonumber(c[3])], ARGV[1])
redis.call('SREM', KEYS[5], ARGV[1])
redis.call('SREM', KEYS[6], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
`)

// Finish ends a case that holder holds ("" for a waiting case) with a
// wrap-up category; the record is kept Options.CaseTTL, then gone.
func (s *Store) Finish(ctx context.Context, code, holder, wrap string, now time.Time) error {
	keys := append([]string{s.keys.queueCase(code)}, s.waitKeys()...)
	keys = append(keys, s.keys.heldBy(holder), s.keys.active())
	n, err := finishScript.Run(ctx, s.rdb, keys, code, holder, wrap, now.Unix(), int64(s.opts.CaseTTL/time.Second)).Int()
	if err != nil {
		return fmt.Errorf("finish case: %w", err)
	}
	return claimResult(n)
}

// Close ends an open case, whoever holds it: the person cancelled or asked
// to be forgotten. With forget the record goes at once.
func (s *Store) Close(ctx context.Context, code, wrap string, forget bool, now time.Time) error {
	for range 8 {
		c, err := s.Case(ctx, code)
		if errors.Is(err, bot.ErrNoCase) {
			return nil
		}
		if err != nil {
			return err
		}
		if c.State != bot.InQueue && c.State != bot.WithCounsellor {
			break
		}
		err = s.Finish(ctx, code, c.Counsellor, wrap, now)
		if errors.Is(err, bot.ErrNotYours) {
			continue // passed on between the read and the script: read again
		}
		if err != nil && !errors.Is(err, bot.ErrTaken) {
			return err
		}
		break
	}
	if forget {
		if err := s.rdb.Del(ctx, s.keys.queueCase(code)).Err(); err != nil {
			return fmt.Errorf("forget case: %w", err)
		}
	}
	return nil
}

// noticeScript decides whether the person hears of a new place in the
// queue: only when it changed, and at most once per gap.
// KEYS: case. ARGV: now (s), place, gap (s).
var noticeScript = redis.NewScript(`
local c = redis.call('HMGET', KEYS[1], 'st', 'ln', 'lp')
if c[1] ~= 'wait' or c[3] == ARGV[2] then
  return 0
end
if c[2] and tonumber(ARGV[1]) - tonumber(c[2]) < tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], 'ln', ARGV[1], 'lp', ARGV[2])
return 1
`)

// TakeNotice reports whether the person of a waiting case should now be
// told their place: it changed since the last notice, and gap has passed.
// Of several replicas asking at once, one is told yes.
func (s *Store) TakeNotice(ctx context.Context, code string, place int, gap time.Duration, now time.Time) (bool, error) {
	n, err := noticeScript.Run(ctx, s.rdb, []string{s.keys.queueCase(code)}, now.Unix(), place, int64(gap/time.Second)).Int()
	if err != nil {
		return false, fmt.Errorf("take notice: %w", err)
	}
	return n == 1, nil
}

// TakeTimeout reports, once per case, that it waited too long unclaimed.
func (s *Store) TakeTimeout(ctx context.Context, code string) (bool, error) {
	ok, err := s.rdb.HSetNX(ctx, s.keys.queueCase(code), "tw", "1").Result()
	if err != nil {
		return false, fmt.Errorf("take timeout: %w", err)
	}
	return ok, nil
}

// Case reads one case of the queue; bot.ErrNoCase when there is none.
func (s *Store) Case(ctx context.Context, code string) (bot.Case, error) {
	m, err := s.rdb.HGetAll(ctx, s.keys.queueCase(code)).Result()
	if err != nil {
		return bot.Case{}, fmt.Errorf("read case: %w", err)
	}
	if m["st"] == "" {
		return bot.Case{}, bot.ErrNoCase
	}
	return queueCase(code, m), nil
}

// Waiting lists the waiting cases in the order they are served: urgent
// first, then by waiting time.
func (s *Store) Waiting(ctx context.Context) ([]bot.Case, error) {
	var codes []string
	for i := maxPriority; i >= 0; i-- {
		c, err := s.rdb.ZRange(ctx, s.waitKeys()[i], 0, -1).Result()
		if err != nil {
			return nil, fmt.Errorf("read queue: %w", err)
		}
		codes = append(codes, c...)
	}
	return s.cases(ctx, codes)
}

// HeldBy lists the cases a counsellor holds.
func (s *Store) HeldBy(ctx context.Context, counsellor string) ([]bot.Case, error) {
	codes, err := s.rdb.SMembers(ctx, s.keys.heldBy(counsellor)).Result()
	if err != nil {
		return nil, fmt.Errorf("read held cases: %w", err)
	}
	return s.cases(ctx, codes)
}

// Active lists every held case.
func (s *Store) Active(ctx context.Context) ([]bot.Case, error) {
	codes, err := s.rdb.SMembers(ctx, s.keys.active()).Result()
	if err != nil {
		return nil, fmt.Errorf("read active cases: %w", err)
	}
	return s.cases(ctx, codes)
}

// AverageWait is the recent average time a case waited to be claimed, or
// false when no case was claimed yet.
func (s *Store) AverageWait(ctx context.Context) (time.Duration, bool, error) {
	v, err := s.rdb.HGet(ctx, s.keys.queueMeta(), "avg").Result()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read average wait: %w", err)
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return time.Duration(n) * time.Second, true, nil
}

func (s *Store) cases(ctx context.Context, codes []string) ([]bot.Case, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.MapStringStringCmd, len(codes))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, code := range codes {
			cmds[i] = p.HGetAll(ctx, s.keys.queueCase(code))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read cases: %w", err)
	}
	out := make([]bot.Case, 0, len(codes))
	for i, code := range codes {
		if m := cmds[i].Val(); m["st"] != "" {
			out = append(out, queueCase(code, m))
		}
	}
	return out, nil
}

func queueCase(code string, m map[string]string) bot.Case {
	unix := func(k string) time.Time {
		n, err := strconv.ParseInt(m[k], 10, 64)
		if err != nil || n == 0 {
			return time.Time{}
		}
		return time.Unix(n, 0)
	}
	pr, _ := strconv.Atoi(m["pr"])
	ct, _ := strconv.ParseInt(m["ct"], 10, 64)
	return bot.Case{
		Code: code, PID: m["pid"], Lang: m["lang"], Channel: bot.Channel(m["ch"]), Priority: bot.Priority(pr), Topic: m["tp"],
		Flags: strings.Fields(m["fl"]), State: bot.QueueState(m["st"]), Counsellor: m["who"],
		Created: time.UnixMilli(ct), Claimed: unix("cl"), Wrap: m["wr"],
		Transferred: m["tr"] == "1",
	}
}

// NotifyConsole tells every replica's consoles that something changed:
// "queue", or "case <code>".
func (s *Store) NotifyConsole(ctx context.Context, note string) error {
	if err := s.rdb.Publish(ctx, s.keys.consoleChannel(), note).Err(); err != nil {
		return fmt.Errorf("notify consoles: %w", err)
	}
	return nil
}

// ConsoleNotes delivers the console notifications until ctx ends or stop is
// called.
func (s *Store) ConsoleNotes(ctx context.Context) (<-chan string, func()) {
	return s.subscribe(ctx, s.keys.consoleChannel())
}
