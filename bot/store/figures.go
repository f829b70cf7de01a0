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

// The figures here are for metrics: how much waits, and since when. They
// name no person and no case.

// Backlog is what waits in one outbox partition: the entries not yet sent
// or dropped.
type Backlog struct {
	Part    int
	Entries int64
	// Oldest is when the oldest entry was committed, by Redis's clock; zero
	// when the partition is empty.
	Oldest time.Time
}

// OutboxBacklog reports the backlog of every partition, in one pipeline.
// An entry leaves its stream once sent or dropped, so the stream's length
// is what waits, and its first entry the oldest.
func (s *Store) OutboxBacklog(ctx context.Context) ([]Backlog, error) {
	n := s.opts.Partitions
	lens := make([]*redis.IntCmd, n)
	firsts := make([]*redis.XMessageSliceCmd, n)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for part := range n {
			key := s.keys.outbox(part)
			lens[part] = p.XLen(ctx, key)
			firsts[part] = p.XRangeN(ctx, key, "-", "+", 1)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox backlog: %w", err)
	}
	out := make([]Backlog, n)
	for part := range n {
		out[part] = Backlog{Part: part, Entries: lens[part].Val()}
		if first := firsts[part].Val(); len(first) > 0 {
			out[part].Oldest = streamTime(first[0].ID)
		}
	}
	return out, nil
}

// streamTime is when Redis added the stream entry id ("<ms>-<seq>").
func streamTime(id string) time.Time {
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

// QueueFigures is the counsellor queue in figures.
type QueueFigures struct {
	// Waiting lists every waiting case by its priority, language and the
	// time it was queued; not by its code.
	Waiting []WaitingCase
	// Held is the number of cases counsellors hold.
	Held int64
}

// WaitingCase is one waiting case, as the figures count it.
type WaitingCase struct {
	Priority bot.Priority
	Lang     string
	Since    time.Time
}

// QueueFigures reads the queue's figures in two round trips: the waiting
// sets and the number held, then the language of each waiting case.
func (s *Store) QueueFigures(ctx context.Context) (QueueFigures, error) {
	sets := make([]*redis.ZSliceCmd, maxPriority+1)
	var held *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, key := range s.waitKeys() {
			sets[i] = p.ZRangeWithScores(ctx, key, 0, -1)
		}
		held = p.SCard(ctx, s.keys.active())
		return nil
	})
	if err != nil {
		return QueueFigures{}, fmt.Errorf("read queue figures: %w", err)
	}
	f := QueueFigures{Held: held.Val()}
	var codes []string
	for pr, set := range sets {
		for _, z := range set.Val() {
			code, _ := z.Member.(string)
			codes = append(codes, code)
			f.Waiting = append(f.Waiting, WaitingCase{Priority: bot.Priority(pr), Since: time.UnixMilli(int64(z.Score))})
		}
	}
	if len(codes) == 0 {
		return f, nil
	}
	langs := make([]*redis.StringCmd, len(codes))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, code := range codes {
			langs[i] = p.HGet(ctx, s.keys.queueCase(code), "lang")
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) { // a case that ended since has none
		return QueueFigures{}, fmt.Errorf("read queue figures: %w", err)
	}
	for i := range f.Waiting {
		f.Waiting[i].Lang = langs[i].Val()
	}
	return f, nil
}
