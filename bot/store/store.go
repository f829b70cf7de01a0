// Package store keeps everything the helpline stores in Redis: sessions,
// the marks that ignore redelivered messages, the outbox, web chat
// mailboxes and aggregate counters. It works on a single Redis, Sentinel or
// Cluster through go-redis's UniversalClient.
package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options tune the store. Zero values take the defaults.
type Options struct {
	// Prefix starts every key. Default "hl".
	Prefix string
	// Partitions is the number of outbox streams, and of hash tags that
	// people are spread over. Default 16. Changing it moves every person to
	// another partition: set it once per deployment.
	Partitions int
	// SessionTTL is how long an idle session is kept. Default 30 days.
	SessionTTL time.Duration
	// DedupeTTL is how long a message ID is remembered. Default 24 hours.
	DedupeTTL time.Duration
	// MailboxTTL is how long a reply waits for a web page. Default 1 hour.
	MailboxTTL time.Duration
	// StatsTTL is how long a day's counters are kept. Default 400 days.
	StatsTTL time.Duration
	// CaseTTL is how long a case and its sealed transcript are kept after
	// the case ends. Default 7 days.
	CaseTTL time.Duration
	// ConsoleTTL is how long a console login lasts. Default 12 hours.
	ConsoleTTL time.Duration
	// LoginWindow is how long failed logins are remembered. Default 15
	// minutes.
	LoginWindow time.Duration
}

// The lifetimes a store keeps when its options leave them zero; the
// configuration states them from here.
const (
	DefaultPartitions = 16
	DefaultSessionTTL = 30 * 24 * time.Hour
	DefaultDedupeTTL  = 24 * time.Hour
	DefaultCaseTTL    = 7 * 24 * time.Hour
)

func (o *Options) defaults() {
	if o.Prefix == "" {
		o.Prefix = "hl"
	}
	if o.Partitions <= 0 {
		o.Partitions = DefaultPartitions
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.DedupeTTL <= 0 {
		o.DedupeTTL = DefaultDedupeTTL
	}
	if o.MailboxTTL <= 0 {
		o.MailboxTTL = time.Hour
	}
	if o.StatsTTL <= 0 {
		o.StatsTTL = 400 * 24 * time.Hour
	}
	if o.CaseTTL <= 0 {
		o.CaseTTL = DefaultCaseTTL
	}
	if o.ConsoleTTL <= 0 {
		o.ConsoleTTL = 12 * time.Hour
	}
	if o.LoginWindow <= 0 {
		o.LoginWindow = 15 * time.Minute
	}
}

// Store is the helpline's Redis.
type Store struct {
	rdb  redis.UniversalClient
	opts Options
	keys keys
	// commits batches the commits made at once (batch.go).
	commits *commitBatches
}

// New wraps a Redis client. It does no I/O.
func New(rdb redis.UniversalClient, opts Options) *Store {
	opts.defaults()
	return &Store{rdb: rdb, opts: opts, keys: keys{prefix: opts.Prefix, partitions: opts.Partitions},
		commits: newCommitBatches(rdb)}
}

// Partition returns the outbox partition of a person.
func (s *Store) Partition(pid string) int { return s.keys.partition(pid) }

// Partitions returns the number of outbox partitions.
func (s *Store) Partitions() int { return s.opts.Partitions }

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

// Record is a stored session with the version it was read at.
type Record struct {
	Session []byte // nil for a person with no session
	Address []byte // the sealed address
	Version int64
	// Kept lists the codes whose case keys are kept for the person.
	Kept []string
}

// Load reads a person's session: one round trip.
func (s *Store) Load(ctx context.Context, pid string) (Record, error) {
	st, ok, err := s.readSession(ctx, s.keys.session(pid))
	if err != nil {
		return Record{}, fmt.Errorf("load session: %w", err)
	}
	if !ok {
		return Record{}, nil
	}
	r := Record{Version: st.version, Kept: st.kept}
	if st.session != "" {
		r.Session = []byte(st.session)
	}
	if st.address != "" {
		r.Address = []byte(st.address)
	}
	return r, nil
}

// Stats sums the aggregate counters of one day over every partition.
func (s *Store) Stats(ctx context.Context, day time.Time) (map[string]int64, error) {
	sum := map[string]int64{}
	for p := range s.opts.Partitions {
		m, err := s.rdb.HGetAll(ctx, s.keys.stats(p, day)).Result()
		if err != nil {
			return nil, fmt.Errorf("read stats: %w", err)
		}
		for k, v := range m {
			n, _ := strconv.ParseInt(v, 10, 64)
			sum[k] += n
		}
	}
	return sum, nil
}

// PersonKeys returns how many keys of the person exist, counting the case
// keys of codes: zero after erase.
func (s *Store) PersonKeys(ctx context.Context, pid string, codes ...string) (int64, error) {
	var n int64
	for _, k := range s.keys.person(pid, codes) {
		c, err := s.rdb.Exists(ctx, k).Result()
		if err != nil {
			return 0, fmt.Errorf("count keys: %w", err)
		}
		n += c
	}
	return n, nil
}

// isBusyGroup reports the error XGROUP CREATE gives for an existing group.
func isBusyGroup(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "BUSYGROUP")
}

// isNoGroup reports the error a stream command gives when the stream or
// its consumer group is missing.
func isNoGroup(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOGROUP")
}

// FirstSeen records mark in partition part's marks of things seen, and
// reports whether it is new: a provider's callback redelivered is seen
// again. mark must name no one (a keyed hash); it expires as the marks of
// messages do.
func (s *Store) FirstSeen(ctx context.Context, part int, mark string, now time.Time) (bool, error) {
	key := s.keys.partMarks(part)
	var added *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		added = p.ZAddNX(ctx, key, redis.Z{Score: float64(now.Unix()), Member: mark})
		p.Expire(ctx, key, s.opts.DedupeTTL)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("mark seen: %w", err)
	}
	return added.Val() == 1, nil
}
