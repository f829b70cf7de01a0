package store

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// A person's session key is one string:
//
//	<v> <ls> <n>[ <kept codes>]\n<sealed address, n bytes><sealed session>
//
// v is the version, ls the sequence number of the last reply sent (see
// Sent), kept the codes whose case keys are kept, space-separated. It was a
// hash once (fields v, ls, a, k, d); Redis keeps a hash compact (a
// listpack) only while every value is at most 64 bytes, and the sealed
// session never is, so as a hash the session cost more than twice its
// bytes. Sessions stored as a hash by an earlier version are still read,
// and the next commit writes them as a string.

// sessionLua reads and writes the session key in scripts. getSession
// returns nil when there is none, else a table of v, ls (numbers), a, k and
// d (strings). putSession writes such a table; with ttl it sets the key's
// lifetime, else it keeps the key's own.
const sessionLua = `
local function getSession(key)
  local ok, s = pcall(redis.call, 'GET', key)
  if not ok then
    local h = redis.call('HMGET', key, 'v', 'ls', 'a', 'k', 'd')
    if not h[1] then
      return nil
    end
    return {v = tonumber(h[1]), ls = tonumber(h[2] or '0'), a = h[3] or '', k = h[4] or '', d = h[5] or ''}
  end
  if not s then
    return nil
  end
  local v, ls, n, k, p = string.match(s, '^(%d+) (%d+) (%d+) ?([^\n]*)\n()')
  if not v then
    return nil
  end
  n = tonumber(n)
  return {v = tonumber(v), ls = tonumber(ls), a = string.sub(s, p, p + n - 1), k = k, d = string.sub(s, p + n)}
end
local function putSession(key, r, ttl)
  local head = string.format('%d %d %d', r.v, r.ls, #r.a)
  if r.k ~= '' then
    head = head .. ' ' .. r.k
  end
  local s = head .. '\n' .. r.a .. r.d
  if ttl then
    redis.call('SET', key, s, 'EX', ttl)
  else
    redis.call('SET', key, s, 'KEEPTTL')
  end
end
`

// storedSession is a session key as stored.
type storedSession struct {
	version, lastSent int64
	address, session  string
	kept              []string
}

// parseSession reads the string form of a session key.
func parseSession(s string) (storedSession, bool) {
	var r storedSession
	head, rest, whole := strings.Cut(s, "\n")
	f := strings.Fields(head)
	if !whole || len(f) < 3 {
		return r, false
	}
	var ok bool
	if r.version, r.lastSent, ok = parseHead(f); !ok {
		return r, false
	}
	n, err := strconv.Atoi(f[2])
	if err != nil || n < 0 || n > len(rest) {
		return r, false
	}
	r.address, r.session = rest[:n], rest[n:]
	if len(f) > 3 {
		r.kept = f[3:]
	}
	return r, true
}

// parseHead reads the version and the last reply sent from the fields of a
// session key's header.
func parseHead(f []string) (version, lastSent int64, ok bool) {
	if len(f) < 2 {
		return 0, 0, false
	}
	var err1, err2 error
	version, err1 = strconv.ParseInt(f[0], 10, 64)
	lastSent, err2 = strconv.ParseInt(f[1], 10, 64)
	return version, lastSent, err1 == nil && err2 == nil
}

// lastSentOf reads the last reply sent from the first bytes of a session
// key (sessionHead of them).
func lastSentOf(first string) int64 {
	head, _, _ := strings.Cut(first, "\n")
	_, last, _ := parseHead(strings.Fields(head))
	return last
}

// sessionHead is how many bytes of a session key hold its version and the
// last reply sent, and more: two numbers of at most 20 digits and a space.
const sessionHead = 48

// isWrongType reports the error a command gives on a key of another type:
// a session an earlier version stored as a hash.
func isWrongType(err error) bool {
	return err != nil && redis.HasErrorPrefix(err, "WRONGTYPE")
}

// loadHash reads a session an earlier version stored as a hash.
func (s *Store) loadHash(ctx context.Context, key string) (storedSession, bool, error) {
	vals, err := s.rdb.HMGet(ctx, key, "v", "ls", "a", "k", "d").Result()
	if err != nil {
		return storedSession{}, false, err
	}
	v, ok := vals[0].(string)
	if !ok {
		return storedSession{}, false, nil
	}
	var r storedSession
	r.version, _ = strconv.ParseInt(v, 10, 64)
	if ls, ok := vals[1].(string); ok {
		r.lastSent, _ = strconv.ParseInt(ls, 10, 64)
	}
	r.address, _ = vals[2].(string)
	if k, ok := vals[3].(string); ok {
		r.kept = strings.Fields(k)
	}
	r.session, _ = vals[4].(string)
	return r, true, nil
}

// readSession reads a person's session key in either form: one round trip
// for the string form.
func (s *Store) readSession(ctx context.Context, key string) (storedSession, bool, error) {
	v, err := s.rdb.Get(ctx, key).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return storedSession{}, false, nil
	case isWrongType(err):
		return s.loadHash(ctx, key)
	case err != nil:
		return storedSession{}, false, err
	}
	r, ok := parseSession(v)
	return r, ok, nil
}
