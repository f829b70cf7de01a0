package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/time/rate"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/store"
)

// cookieName is the console session cookie. It holds a random token; Redis
// keeps only the token's hash.
const cookieName = "hl_console"

// user is the counsellor of a request.
type user struct {
	bot.Counsellor
	CSRF  string
	token string
}

// user wraps h: it needs a login, and for a POST the login's CSRF token.
// A page without a login redirects to the login page.
func (c *Console) user(h func(http.ResponseWriter, *http.Request, *user)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := c.session(r)
		if err != nil {
			c.log.Error("console session unreadable", "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		if u == nil {
			if r.Method == http.MethodGet && r.Header.Get("Accept") != "text/event-stream" && !strings.HasSuffix(r.URL.Path, "/lines") && r.URL.Path != "/console/queue" {
				http.Redirect(w, r, "/console/login", http.StatusSeeOther)
				return
			}
			c.refuse(w, r, nil, http.StatusUnauthorized, "login.title")
			return
		}
		if r.Method == http.MethodPost {
			got := r.PostFormValue("csrf")
			if subtle.ConstantTimeCompare([]byte(got), []byte(u.CSRF)) != 1 || got == "" {
				c.refuse(w, r, u, http.StatusForbidden, "console.stale")
				return
			}
		}
		if err := c.st.Seen(r.Context(), u.Name, c.now()); err != nil {
			c.log.Warn("presence not recorded", "err", err)
		}
		h(w, r, u)
	})
}

// supervisor wraps h: it needs a supervisor's login.
func (c *Console) supervisor(h func(http.ResponseWriter, *http.Request, *user)) http.Handler {
	return c.user(func(w http.ResponseWriter, r *http.Request, u *user) {
		if !u.Supervisor {
			http.Error(w, "for supervisors", http.StatusForbidden)
			return
		}
		h(w, r, u)
	})
}

// session finds the request's login; nil when there is none, or its
// account is disabled.
func (c *Console) session(r *http.Request) (*user, error) {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	l, ok, err := c.st.Login(r.Context(), hashToken(ck.Value))
	if err != nil || !ok {
		return nil, err
	}
	a, err := c.st.GetAccount(r.Context(), l.User)
	if errors.Is(err, store.ErrNoAccount) {
		return nil, nil
	}
	if err != nil || a.Disabled || l.Epoch != a.Epoch {
		return nil, err
	}
	return &user{Counsellor: counsellorOf(a), CSRF: l.CSRF, token: ck.Value}, nil
}

func counsellorOf(a store.Account) bot.Counsellor {
	return bot.Counsellor{Name: a.Name, Langs: a.Langs, Capacity: max(1, a.Capacity), Supervisor: a.Role == "supervisor"}
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "login", "", page{Title: c.locFor(r, nil).T("login.title"), Msg: note(r)})
}

// login checks a name and password. A name that is no valid account name
// is refused before any work. Wrong passwords are slowed down per name and
// network address together: after MaxFailures in a row from one address,
// each try from it must wait, twice as long each time (up to 15 minutes),
// so a stranger's wrong guesses never lock the counsellor out from their
// own address. Past a ceiling of failures for the name from everywhere,
// every try waits a second, which slows a spread-out guesser and locks no
// one out. At most a few password checks run at once: each takes 19 MiB.
// One network address may try 20 times a minute.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	password := r.PostFormValue("password")
	refuse := func(status int, msg string) {
		c.render(w, r, status, "login", "", page{Title: c.locFor(r, nil).T("login.title"), Msg: msg})
	}
	ip := clientIP(r)
	if !c.ips.allow(ip) {
		w.Header().Set("Retry-After", "60")
		refuse(http.StatusTooManyRequests, "login.too_many")
		return
	}
	if !ValidName(name) || len(password) > maxPassword {
		refuse(http.StatusUnauthorized, "login.wrong")
		return
	}
	ctx := r.Context()
	now := c.now()
	pair, all := failureKey(name, ip), failureKey(name, "")
	if wait, err := c.backoff(ctx, pair, now); err != nil {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	} else if wait > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		refuse(http.StatusTooManyRequests, "login.wait")
		return
	}
	if n, _, err := c.st.Failures(ctx, all); err == nil && n >= nameCeiling {
		time.Sleep(time.Second)
	}
	a, err := c.st.GetAccount(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNoAccount) {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	hash := a.Hash
	if hash == "" {
		hash = dummyHash() // the same work for a name that does not exist
	}
	ok, busy := c.checkPassword(ctx, hash, password)
	if busy {
		w.Header().Set("Retry-After", "2")
		refuse(http.StatusTooManyRequests, "login.busy")
		return
	}
	if !ok || a.Hash == "" || a.Disabled {
		c.st.Fail(ctx, pair, now)
		c.st.Fail(ctx, all, now)
		c.log.Info("console login refused", "name", all)
		refuse(http.StatusUnauthorized, "login.wrong")
		return
	}
	c.st.ClearFailures(ctx, pair)
	token := randomToken()
	if err := c.st.SaveLogin(ctx, hashToken(token), store.ConsoleLogin{User: a.Name, CSRF: randomToken(), Epoch: a.Epoch}); err != nil {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	http.SetCookie(w, c.cookie(r, token, 0))
	c.log.Info("console login", "counsellor", a.Name)
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

// maxPassword is the longest password checked: argon2 takes any length,
// and a megabyte of password is no password.
const maxPassword = 1024

// nameCeiling is how many failures of one name, from every address within
// the login window, slow each further try of that name by a second.
const nameCeiling = 50

// hashers bounds the password checks that run at once, and hashWait how
// long a login waits for one before it is told to try again.
const (
	hashers  = 4
	hashWait = 2 * time.Second
)

// checkPassword checks password against hash when a slot is free within
// hashWait; busy is true when none was.
func (c *Console) checkPassword(ctx context.Context, hash, password string) (ok, busy bool) {
	t := time.NewTimer(hashWait)
	defer t.Stop()
	select {
	case c.hashing <- struct{}{}:
	case <-t.C:
		return false, true
	case <-ctx.Done():
		return false, true
	}
	defer func() { <-c.hashing }()
	return CheckPassword(hash, password), false
}

// failureKey names a counter of failed logins: of name from address ip, or
// of name from everywhere (ip ""). It is a hash, so that neither an
// attempted name nor an address is kept or logged in clear, and a name of
// any length makes a key of one length.
func failureKey(name, ip string) string {
	sum := sha256.Sum256([]byte("login\x00" + name + "\x00" + ip))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// ValidName reports whether s can be an account name: 2 to 32 letters,
// digits, dots, dashes and underscores.
func ValidName(s string) bool {
	if len(s) < 2 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// backoff is how long the tries counted under key must still wait.
func (c *Console) backoff(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	n, last, err := c.st.Failures(ctx, key)
	if err != nil || n < c.opts.MaxFailures {
		return 0, err
	}
	wait := min(15*time.Minute, 5*time.Second<<min(n-c.opts.MaxFailures, 10))
	return max(0, last.Add(wait).Sub(now)), nil
}

func (c *Console) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: cookieName, Value: value, Path: "/console/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.opts.Secure || r.TLS != nil,
	}
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, u *user) {
	c.st.Logout(r.Context(), hashToken(u.token))
	http.SetCookie(w, c.cookie(r, "", -1))
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// The argon2id parameters: OWASP's minimum for argon2id (19 MiB, two
// passes), light enough for a small server.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// dummyHash is checked for a name that does not exist, so that the answer
// takes as long.
var dummyHash = sync.OnceValue(func() string { h, _ := HashPassword(randomToken()); return h })

// HashPassword hashes a password with argon2id under a random salt, in the
// usual $argon2id$v=19$m=...,t=...,p=...$salt$hash form.
func HashPassword(password string) (string, error) {
	if len(password) < 10 {
		return "", errors.New("the password must be at least 10 characters")
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding.EncodeToString
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64(salt), b64(key)), nil
}

// CheckPassword reports whether password matches hash, in constant time.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// ipLimiter bounds login tries per network address.
type ipLimiter struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

func newIPLimiter() *ipLimiter { return &ipLimiter{m: map[string]*rate.Limiter{}} }

func (l *ipLimiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) > 10000 {
		clear(l.m) // a flood of addresses: start over rather than grow
	}
	lim := l.m[ip]
	if lim == nil {
		lim = rate.NewLimiter(rate.Every(3*time.Second), 20)
		l.m[ip] = lim
	}
	return lim.Allow()
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// NewPassword makes a random password of 24 characters, for a demo or a
// first login.
func NewPassword() string { return randomToken()[:24] }
