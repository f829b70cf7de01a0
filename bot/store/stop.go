package store

import (
	"context"
	"fmt"
)

// SetStopped records that nothing may be sent to the person (they sent
// STOP, or blocked the bot), or lifts that. The mark names only the
// pseudonymous ID, and an erase does not lift it: a person who said STOP
// stays unbothered.
func (s *Store) SetStopped(ctx context.Context, pid string, stopped bool) error {
	key := s.keys.stopped(pid)
	var err error
	if stopped {
		err = s.rdb.Set(ctx, key, "1", 0).Err()
	} else {
		err = s.rdb.Del(ctx, key).Err()
	}
	if err != nil {
		return fmt.Errorf("set stopped: %w", err)
	}
	return nil
}

// Stopped reports whether nothing may be sent to the person.
func (s *Store) Stopped(ctx context.Context, pid string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.keys.stopped(pid)).Result()
	if err != nil {
		return false, fmt.Errorf("read stopped: %w", err)
	}
	return n == 1, nil
}
