package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Account is a counsellor's login. Hash is the password's argon2id hash;
// the store never sees a password.
type Account struct {
	Name     string
	Hash     string
	Role     string // "counsellor" or "supervisor"
	Langs    []string
	Capacity int
	Disabled bool
	Created  time.Time
	// Epoch counts the times the account was disabled: a console login
	// made in an earlier epoch is over, so re-enabling an account does
	// not revive the logins it had.
	Epoch int64
}

// ErrNoAccount means there is no account of that name; ErrAccountExists
// that there already is one.
var (
	ErrNoAccount     = errors.New("no such account")
	ErrAccountExists = errors.New("the account exists")
)

// AddAccount creates an account; ErrAccountExists when the name is taken.
func (s *Store) AddAccount(ctx context.Context, a Account) error {
	ok, err := s.rdb.HSetNX(ctx, s.keys.account(a.Name), "hash", a.Hash).Result()
	if err != nil {
		return fmt.Errorf("add account: %w", err)
	}
	if !ok {
		return ErrAccountExists
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.keys.account(a.Name), "role", a.Role, "langs", strings.Join(a.Langs, " "),
			"cap", a.Capacity, "off", disabled(a.Disabled), "ct", a.Created.Unix())
		p.SAdd(ctx, s.keys.accounts(), a.Name)
		return nil
	})
	if err != nil {
		return fmt.Errorf("add account: %w", err)
	}
	return nil
}

func disabled(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// GetAccount reads an account; ErrNoAccount when there is none.
func (s *Store) GetAccount(ctx context.Context, name string) (Account, error) {
	m, err := s.rdb.HGetAll(ctx, s.keys.account(name)).Result()
	if err != nil {
		return Account{}, fmt.Errorf("read account: %w", err)
	}
	if m["hash"] == "" {
		return Account{}, ErrNoAccount
	}
	capacity, _ := strconv.Atoi(m["cap"])
	ct, _ := strconv.ParseInt(m["ct"], 10, 64)
	epoch, _ := strconv.ParseInt(m["g"], 10, 64)
	return Account{
		Name: name, Hash: m["hash"], Role: m["role"], Langs: strings.Fields(m["langs"]),
		Capacity: capacity, Disabled: m["off"] == "1", Created: time.Unix(ct, 0), Epoch: epoch,
	}, nil
}

// Accounts lists every account, by name.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	names, err := s.rdb.SMembers(ctx, s.keys.accounts()).Result()
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	out := make([]Account, 0, len(names))
	for _, n := range names {
		a, err := s.GetAccount(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// SetDisabled disables or enables an account. Disabling ends the account's
// console logins for good (a new epoch), and tells every console replica
// to close their event streams at once ("disabled <name>").
func (s *Store) SetDisabled(ctx context.Context, name string, off bool) error {
	if _, err := s.GetAccount(ctx, name); err != nil {
		return err
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.keys.account(name), "off", disabled(off))
		if off {
			p.HIncrBy(ctx, s.keys.account(name), "g", 1)
			p.Publish(ctx, s.keys.consoleChannel(), "disabled "+name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("disable account: %w", err)
	}
	return nil
}

// ConsoleLogin is a console session: its user, its CSRF token and the
// account's epoch when it began.
type ConsoleLogin struct {
	User  string
	CSRF  string
	Epoch int64
}

// SaveLogin keeps a console session under the hash of its cookie for
// Options.ConsoleTTL.
func (s *Store) SaveLogin(ctx context.Context, tokenHash string, l ConsoleLogin) error {
	key := s.keys.consoleSession(tokenHash)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, "u", l.User, "x", l.CSRF, "g", l.Epoch)
		p.Expire(ctx, key, s.opts.ConsoleTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("save console session: %w", err)
	}
	return nil
}

// Login reads a console session; ok is false when there is none.
func (s *Store) Login(ctx context.Context, tokenHash string) (l ConsoleLogin, ok bool, err error) {
	m, err := s.rdb.HGetAll(ctx, s.keys.consoleSession(tokenHash)).Result()
	if err != nil {
		return l, false, fmt.Errorf("read console session: %w", err)
	}
	if m["u"] == "" {
		return l, false, nil
	}
	epoch, _ := strconv.ParseInt(m["g"], 10, 64)
	return ConsoleLogin{User: m["u"], CSRF: m["x"], Epoch: epoch}, true, nil
}

// Logout ends a console session, and tells every console replica to close
// its event streams at once ("logout <token hash>").
func (s *Store) Logout(ctx context.Context, tokenHash string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.keys.consoleSession(tokenHash))
		p.Publish(ctx, s.keys.consoleChannel(), "logout "+tokenHash)
		return nil
	})
	if err != nil {
		return fmt.Errorf("end console session: %w", err)
	}
	return nil
}

// Failures returns how many logins counted under key (the console makes
// it: a hash, never a name in clear) failed in a row within
// Options.LoginWindow, and when the last did.
func (s *Store) Failures(ctx context.Context, key string) (int, time.Time, error) {
	m, err := s.rdb.HGetAll(ctx, s.keys.loginFailures(key)).Result()
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read failed logins: %w", err)
	}
	n, _ := strconv.Atoi(m["n"])
	t, _ := strconv.ParseInt(m["t"], 10, 64)
	return n, time.UnixMilli(t), nil
}

// Fail records a failed login under key.
func (s *Store) Fail(ctx context.Context, counter string, now time.Time) error {
	key := s.keys.loginFailures(counter)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, key, "n", 1)
		p.HSet(ctx, key, "t", now.UnixMilli())
		p.Expire(ctx, key, s.opts.LoginWindow)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record failed login: %w", err)
	}
	return nil
}

// ClearFailures forgets the failed logins under key, after a good one.
func (s *Store) ClearFailures(ctx context.Context, key string) error {
	return s.rdb.Del(ctx, s.keys.loginFailures(key)).Err()
}

// Seen marks a counsellor online now.
func (s *Store) Seen(ctx context.Context, name string, now time.Time) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, s.keys.online(), redis.Z{Score: float64(now.Unix()), Member: name})
		p.ZRemRangeByScore(ctx, s.keys.online(), "-inf", strconv.FormatInt(now.Add(-24*time.Hour).Unix(), 10))
		return nil
	})
	return err
}

// Online lists the counsellors seen since since, with when.
func (s *Store) Online(ctx context.Context, since time.Time) (map[string]time.Time, error) {
	zs, err := s.rdb.ZRangeByScoreWithScores(ctx, s.keys.online(), &redis.ZRangeBy{Min: strconv.FormatInt(since.Unix(), 10), Max: "+inf"}).Result()
	if err != nil {
		return nil, fmt.Errorf("read online: %w", err)
	}
	out := make(map[string]time.Time, len(zs))
	for _, z := range zs {
		name, _ := z.Member.(string)
		out[name] = time.Unix(int64(z.Score), 0)
	}
	return out, nil
}
