package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// A replica that dies leaves the outbox entries it was handed pending under
// its consumer name. Each replica keeps a heartbeat key (Beat); a peer that
// finds entries held by a consumer without one takes them over at once
// (Holders, Alive, ClaimFrom) instead of waiting for the long claim idle. A
// replica with a stable name (HELPLINE_REPLICA, the pod's name) that
// restarts takes back what its former self held the same way. Entries whose
// person was sent a later reply meanwhile are stale (Stale): sent now, an
// edit would put an old question back in place of a newer one.

// Beat marks consumer as alive for ttl.
func (s *Store) Beat(ctx context.Context, consumer string, ttl time.Duration) error {
	if err := s.rdb.Set(ctx, s.keys.live(consumer), "1", ttl).Err(); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// Quit removes consumer's heartbeat, so that peers take over what it still
// holds at once.
func (s *Store) Quit(ctx context.Context, consumer string) error {
	return s.rdb.Del(ctx, s.keys.live(consumer)).Err()
}

// Alive reports which of the consumers have a heartbeat.
func (s *Store) Alive(ctx context.Context, consumers []string) (map[string]bool, error) {
	if len(consumers) == 0 {
		return nil, nil
	}
	keys := make([]string, len(consumers))
	for i, c := range consumers {
		keys[i] = s.keys.live(c)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("read heartbeats: %w", err)
	}
	out := make(map[string]bool, len(consumers))
	for i, v := range vals {
		out[consumers[i]] = v != nil
	}
	return out, nil
}

// Holders returns, per partition, the consumers that hold pending outbox
// entries and how many each holds, for every partition in one pipeline.
func (s *Store) Holders(ctx context.Context) (map[int]map[string]int64, error) {
	cmds := make([]*redis.XPendingCmd, s.opts.Partitions)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for part := range cmds {
			cmds[part] = p.XPending(ctx, s.keys.outbox(part), group)
		}
		return nil
	})
	if err != nil && !isNoGroup(err) {
		return nil, fmt.Errorf("read outbox holders: %w", err)
	}
	out := map[int]map[string]int64{}
	for part, cmd := range cmds {
		res, err := cmd.Result()
		if err != nil || res.Count == 0 {
			continue
		}
		out[part] = res.Consumers
	}
	return out, nil
}

// Consumers returns the name of every consumer in the outbox groups.
func (s *Store) Consumers(ctx context.Context) ([]string, error) {
	cmds := make([]*redis.XInfoConsumersCmd, s.opts.Partitions)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for part := range cmds {
			cmds[part] = p.XInfoConsumers(ctx, s.keys.outbox(part), group)
		}
		return nil
	})
	if err != nil && !isNoGroup(err) {
		return nil, fmt.Errorf("list outbox consumers: %w", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, cmd := range cmds {
		list, _ := cmd.Result()
		for _, c := range list {
			if !seen[c.Name] {
				seen[c.Name] = true
				out = append(out, c.Name)
			}
		}
	}
	return out, nil
}

// ClaimFrom takes over, for consumer to, up to count entries of partition
// part that consumer from was handed at least minIdle ago, but for those
// skip, when not nil, reports. Of two replicas that claim the same entry at
// once only one gets it: a claim resets the entry's idle time.
func (s *Store) ClaimFrom(ctx context.Context, part int, from, to string, minIdle time.Duration, count int64, skip func(id string) bool) ([]Message, error) {
	key := s.keys.outbox(part)
	pending, err := s.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{
		Stream: key, Group: group, Idle: minIdle, Start: "-", End: "+", Count: count, Consumer: from,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("claim outbox entries: %w", err)
	}
	if len(pending) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(pending))
	counts := make(map[string]int64, len(pending))
	for _, p := range pending {
		if skip == nil || !skip(p.ID) {
			ids = append(ids, p.ID)
			counts[p.ID] = p.RetryCount + 1 // the claim hands it over once more
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	msgs, err := s.rdb.XClaim(ctx, &redis.XClaimArgs{Stream: key, Group: group, Consumer: to, MinIdle: minIdle, Messages: ids}).Result()
	if err != nil {
		return nil, fmt.Errorf("claim outbox entries: %w", err)
	}
	out := make([]Message, 0, len(msgs))
	for _, m := range msgs {
		msg := message(part, m)
		msg.Deliveries = counts[m.ID]
		out = append(out, msg)
	}
	return out, nil
}

// Stale reports, for each entry, whether its person has been sent a later
// reply than it since it was committed (see Sent): a reply, not a queue
// operation, whose sequence number is below the last one recorded as sent.
func (s *Store) Stale(ctx context.Context, msgs []Message) ([]bool, error) {
	cmds := make([]*redis.StringCmd, len(msgs))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, m := range msgs {
			if m.Op == nil && m.Seq > 0 && m.PID != "" {
				cmds[i] = p.GetRange(ctx, s.keys.session(m.PID), 0, sessionHead-1)
			}
		}
		return nil
	})
	if err != nil && !isWrongType(err) {
		return nil, fmt.Errorf("read last replies sent: %w", err)
	}
	out := make([]bool, len(msgs))
	for i, cmd := range cmds {
		if cmd == nil {
			continue
		}
		var last int64
		switch err := cmd.Err(); {
		case isWrongType(err):
			old, _, err := s.loadHash(ctx, s.keys.session(msgs[i].PID))
			if err != nil {
				return nil, fmt.Errorf("read last replies sent: %w", err)
			}
			last = old.lastSent
		case err != nil:
			return nil, fmt.Errorf("read last replies sent: %w", err)
		default:
			last = lastSentOf(cmd.Val())
		}
		out[i] = msgs[i].Seq < last
	}
	return out, nil
}

// retireScript removes a consumer from an outbox group if it holds nothing
// there: checked and done at once, so that no entry handed to it meanwhile
// is lost with it. KEYS: the outbox. ARGV: the consumer.
var retireScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], 'send', '-', '+', 1, ARGV[1])
if #p > 0 then
  return 0
end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], 'send', ARGV[1])
return 1
`)

// Retire removes consumer from the group of every partition where it holds
// no entry. It reports whether it holds none anywhere.
func (s *Store) Retire(ctx context.Context, consumer string) (bool, error) {
	all := true
	for part := range s.opts.Partitions {
		res, err := retireScript.Run(ctx, s.rdb, []string{s.keys.outbox(part)}, consumer).Int64()
		if err != nil && !isNoGroup(err) {
			return false, fmt.Errorf("retire consumer: %w", err)
		}
		if err == nil && res == 0 {
			all = false
		}
	}
	return all, nil
}
