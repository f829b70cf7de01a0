package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Line is one line of a case's transcript, still sealed.
type Line struct {
	Time time.Time
	// Who wrote it: "p" the person, "c:<name>" a counsellor, "s" the
	// helpline itself.
	Who    string
	Sealed []byte
}

// PersonCase is a case as the person's side keeps it: the fields of the
// case hash (the sealed card among them) and the transcript.
type PersonCase struct {
	Fields map[string]string
	Lines  []Line
}

// PersonCase reads a case of the person: one round trip, one slot. Fields
// is empty when the case is gone (erased, or past its time).
func (s *Store) PersonCase(ctx context.Context, pid, code string) (PersonCase, error) {
	var fields *redis.MapStringStringCmd
	var lines *redis.XMessageSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		fields = p.HGetAll(ctx, s.keys.caseOf(pid, code))
		lines = p.XRange(ctx, s.keys.transcript(pid, code), "-", "+")
		return nil
	})
	if err != nil {
		return PersonCase{}, fmt.Errorf("read person case: %w", err)
	}
	pc := PersonCase{Fields: fields.Val()}
	for _, m := range lines.Val() {
		ms, _, _ := strings.Cut(m.ID, "-")
		n, _ := strconv.ParseInt(ms, 10, 64)
		who, _ := m.Values["w"].(string)
		x, _ := m.Values["x"].(string)
		pc.Lines = append(pc.Lines, Line{Time: time.UnixMilli(n), Who: who, Sealed: []byte(x)})
	}
	return pc, nil
}

// Append adds entries to the person's outbox partition outside of a
// commit: messages the queue sends on its own (a place in the queue), which
// change no session. address is the sealed address.
func (s *Store) Append(ctx context.Context, pid string, address []byte, entries ...Entry) error {
	key := s.keys.outbox(s.keys.partition(pid))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range entries {
			final := ""
			if e.Final {
				final = "1"
			}
			p.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []any{"p", pid, "c", e.Channel, "a", address, "r", e.Reply, "f", e.Ref, "x", final}})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append to outbox: %w", err)
	}
	return nil
}

// SessionTTL is how long an idle session, and an open case, is kept.
func (s *Store) SessionTTL() time.Duration { return s.opts.SessionTTL }

// CaseTTL is how long a case and its transcript are kept after it ends.
func (s *Store) CaseTTL() time.Duration { return s.opts.CaseTTL }
