package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// TrailTTL is how long a message ID stays in a person's trail: Telegram
// lets a bot delete a message of a private chat for 48 hours.
const TrailTTL = 48 * time.Hour

// A person's trail is one sealed string, which the channel reads, changes
// and writes back whole (PutTrails): one nonce and one tag for every
// message ID, where a set of IDs sealed one by one pays them for each.

// putTrailScript replaces a person's sealed trail if it is still the one
// read, and only while the person has a session: a message recorded just
// after an erase must not bring a key of the person back. An empty trail
// deletes the key.
//
// KEYS: session, trail, the trail an older version kept. ARGV: the trail
// read ("" for none), the new one, TTL (seconds). It answers 0 when the
// trail changed since it was read.
var putTrailScript = redis.NewScript(`
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[2])
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
end
return 1
`)

// Trails returns the sealed trails of people, as PutTrails stored them, in
// one round trip: nil for a person with none.
func (s *Store) Trails(ctx context.Context, pids []string) ([][]byte, error) {
	cmds := make([]*redis.StringCmd, len(pids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, pid := range pids {
			cmds[i] = p.Get(ctx, s.keys.trail(pid))
		}
		return nil
	})
	if err != nil && err != redis.Nil {
		return nil, fmt.Errorf("read trails: %w", err)
	}
	out := make([][]byte, len(pids))
	for i, c := range cmds {
		if b, err := c.Bytes(); err == nil {
			out[i] = b
		}
	}
	return out, nil
}

// PutTrails replaces sealed trails, in one round trip: each person's trail
// becomes next[pid] if it is still old[pid] (nil for none), and if the
// person has a session; an empty next deletes it. It returns the people
// whose trail changed since it was read, to read again.
func (s *Store) PutTrails(ctx context.Context, old, next map[string][]byte) ([]string, error) {
	if len(next) == 0 {
		return nil, nil
	}
	pids := make([]string, 0, len(next))
	run := func(sha bool) ([]*redis.Cmd, error) {
		pids = pids[:0]
		cmds := make([]*redis.Cmd, 0, len(next))
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for pid, trail := range next {
				keys := []string{s.keys.session(pid), s.keys.trail(pid)}
				args := []any{old[pid], trail, int64(TrailTTL / time.Second)}
				pids = append(pids, pid)
				if sha {
					cmds = append(cmds, putTrailScript.EvalSha(ctx, p, keys, args...))
				} else {
					cmds = append(cmds, putTrailScript.Eval(ctx, p, keys, args...))
				}
			}
			return nil
		})
		return cmds, err
	}
	cmds, err := run(true)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		cmds, err = run(false)
	}
	if err != nil {
		return nil, fmt.Errorf("write trails: %w", err)
	}
	var changed []string
	for i, c := range cmds {
		if n, _ := c.Int(); n == 0 {
			changed = append(changed, pids[i])
		}
	}
	return changed, nil
}

// OldTrail returns the sealed message IDs of a person's last 48 hours that
// a version before the sealed trail kept, one by one, in a sorted set.
// Nothing adds to it any more: it expires 48 hours after the upgrade.
func (s *Store) OldTrail(ctx context.Context, pid string, now time.Time) ([][]byte, error) {
	since := strconv.FormatInt(now.Add(-TrailTTL).Unix(), 10)
	ids, err := s.rdb.ZRangeByScore(ctx, s.keys.oldTrail(pid), &redis.ZRangeBy{Min: since, Max: "+inf"}).Result()
	if err != nil {
		return nil, fmt.Errorf("read old trail: %w", err)
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = []byte(id)
	}
	return out, nil
}

// ForgetOldTrail deletes what OldTrail reads.
func (s *Store) ForgetOldTrail(ctx context.Context, pid string) error {
	if err := s.rdb.Del(ctx, s.keys.oldTrail(pid)).Err(); err != nil {
		return fmt.Errorf("forget old trail: %w", err)
	}
	return nil
}
