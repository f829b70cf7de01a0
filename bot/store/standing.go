package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Standing reads, in one round trip, what a channel needs to know of a
// person before it hands their message on: whether nothing may be sent to
// them (stopped), and whether they have a conversation in progress
// (session; a message from a person without one starts a new
// conversation). Both keys share the person's hash tag.
func (s *Store) Standing(ctx context.Context, pid string) (stopped, session bool, err error) {
	var x, d *redis.IntCmd
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		x = p.Exists(ctx, s.keys.stopped(pid))
		d = p.Exists(ctx, s.keys.session(pid))
		return nil
	})
	if err != nil {
		return false, false, fmt.Errorf("read standing: %w", err)
	}
	return x.Val() == 1, d.Val() == 1, nil
}
