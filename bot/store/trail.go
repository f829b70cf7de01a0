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

// trailScript adds sealed message IDs to a person's trail, but only while
// the person has a session: a message recorded just after an erase must
// not bring a key of the person back.
//
// KEYS: session, trail. ARGV: now (Unix seconds), TTL (seconds), then the
// sealed IDs.
var trailScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local add = {}
for i = 3, #ARGV do
  add[#add + 1] = now
  add[#add + 1] = ARGV[i]
  if #add == 1000 or i == #ARGV then -- unpack takes a few thousand at most
    redis.call('ZADD', KEYS[2], unpack(add))
    add = {}
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
redis.call('EXPIRE', KEYS[2], ttl)
return 1
`)

// AddTrail records sealed message IDs, by person ID, in one round trip. The
// IDs of a person with no session are not recorded.
func (s *Store) AddTrail(ctx context.Context, now time.Time, sealed map[string][][]byte) error {
	if len(sealed) == 0 {
		return nil
	}
	run := func(sha bool) error {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for pid, ids := range sealed {
				keys := []string{s.keys.session(pid), s.keys.trail(pid)}
				args := make([]any, 0, 2+len(ids))
				args = append(args, now.Unix(), int64(TrailTTL/time.Second))
				for _, id := range ids {
					args = append(args, id)
				}
				if sha {
					trailScript.EvalSha(ctx, p, keys, args...)
				} else {
					trailScript.Eval(ctx, p, keys, args...)
				}
			}
			return nil
		})
		return err
	}
	err := run(true)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		err = run(false)
	}
	if err != nil {
		return fmt.Errorf("add to trail: %w", err)
	}
	return nil
}

// Trail returns the sealed message IDs of a person's last 48 hours.
func (s *Store) Trail(ctx context.Context, pid string, now time.Time) ([][]byte, error) {
	since := strconv.FormatInt(now.Add(-TrailTTL).Unix(), 10)
	ids, err := s.rdb.ZRangeByScore(ctx, s.keys.trail(pid), &redis.ZRangeBy{Min: since, Max: "+inf"}).Result()
	if err != nil {
		return nil, fmt.Errorf("read trail: %w", err)
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = []byte(id)
	}
	return out, nil
}

// ForgetTrail removes sealed message IDs, as Trail returned them, from a
// person's trail: the IDs of the messages that are gone from their phone.
func (s *Store) ForgetTrail(ctx context.Context, pid string, sealed [][]byte) error {
	if len(sealed) == 0 {
		return nil
	}
	members := make([]any, len(sealed))
	for i, id := range sealed {
		members[i] = id
	}
	if err := s.rdb.ZRem(ctx, s.keys.trail(pid), members...).Err(); err != nil {
		return fmt.Errorf("forget trail: %w", err)
	}
	return nil
}
