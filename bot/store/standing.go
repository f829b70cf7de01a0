package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Standing is what a channel needs to know of a person before it hands
// their message on.
type Standing struct {
	// Stopped is true while nothing may be sent to the person.
	Stopped bool
	// Session is true when the person has a conversation in progress: a
	// message from a person without one starts a new conversation.
	Session bool
}

// Standing reads the person's stop mark and whether they have a session, in
// one round trip. Both keys share the person's hash tag.
func (s *Store) Standing(ctx context.Context, pid string) (Standing, error) {
	var stopped, session *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		stopped = p.Exists(ctx, s.keys.stopped(pid))
		session = p.Exists(ctx, s.keys.session(pid))
		return nil
	})
	if err != nil {
		return Standing{}, fmt.Errorf("read standing: %w", err)
	}
	return Standing{Stopped: stopped.Val() == 1, Session: session.Val() == 1}, nil
}
