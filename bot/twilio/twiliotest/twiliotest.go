// Package twiliotest fakes Twilio for tests: an httptest server that takes
// the REST API's Messages calls and records every one, and webhook
// signatures made as Twilio makes them.
package twiliotest

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Sent is one message the fake API was asked to send.
type Sent struct {
	AccountSID, To, From, MessagingServiceSID, Body, StatusCallback string
}

// Failure is how the fake API answers a send it is told to fail.
type Failure struct {
	Status int // HTTP status
	Code   int // Twilio error code
	// RetryAfter, when not zero, is sent as the Retry-After header, in
	// seconds.
	RetryAfter int
}

// API is a fake of Twilio's REST API. Point the code under test at URL.
type API struct {
	*httptest.Server
	AccountSID, AuthToken string

	mu       sync.Mutex
	sent     []Sent
	attempts int
	fail     map[string][]Failure
	changed  chan struct{}
}

// NewAPI starts a fake API that accepts the credentials given, and stops it
// when the test ends.
func NewAPI(t testing.TB, accountSID, authToken string) *API {
	a := &API{AccountSID: accountSID, AuthToken: authToken, fail: map[string][]Failure{}, changed: make(chan struct{})}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

// Fail makes the next sends to the number to fail as given, one failure per
// send, in order.
func (a *API) Fail(to string, f ...Failure) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fail[to] = append(a.fail[to], f...)
}

// Sent returns every message sent so far, in order.
func (a *API) Sent() []Sent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.sent)
}

// Attempts returns how many send calls came, failed ones included.
func (a *API) Attempts() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.attempts
}

// WaitSent waits until n messages were sent to the number and returns them.
// It fails the test when they do not come within 10 seconds.
func (a *API) WaitSent(t testing.TB, to string, n int) []Sent {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		a.mu.Lock()
		var got []Sent
		for _, s := range a.sent {
			if s.To == to {
				got = append(got, s)
			}
		}
		changed := a.changed
		a.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("twiliotest: %d messages to %s after 10s, want %d: %+v", len(got), to, n, got)
			return nil
		}
	}
}

func (a *API) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+a.AccountSID+"/Messages.json" {
		writeError(w, http.StatusNotFound, 20404, "not found")
		return
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != a.AccountSID || pass != a.AuthToken {
		writeError(w, http.StatusUnauthorized, 20003, "authenticate")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 21100, "bad form")
		return
	}
	f := r.PostForm
	s := Sent{AccountSID: a.AccountSID, To: f.Get("To"), From: f.Get("From"), MessagingServiceSID: f.Get("MessagingServiceSid"), Body: f.Get("Body"), StatusCallback: f.Get("StatusCallback")}
	a.mu.Lock()
	a.attempts++
	var failure *Failure
	if q := a.fail[s.To]; len(q) > 0 {
		failure, a.fail[s.To] = &q[0], q[1:]
	} else {
		a.sent = append(a.sent, s)
	}
	close(a.changed)
	a.changed = make(chan struct{})
	n := len(a.sent)
	a.mu.Unlock()
	if failure != nil {
		if failure.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(failure.RetryAfter))
		}
		// Twilio's messages quote the number; the code under test must not.
		writeError(w, failure.Status, failure.Code, "The 'To' number "+s.To+" cannot receive this message: "+s.Body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{
		"sid": fmt.Sprintf("SM%032x", n), "account_sid": a.AccountSID, "to": s.To, "from": s.From,
		"body": s.Body, "status": "queued", "num_segments": "1",
	})
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status,
	})
}

// SignForm returns the X-Twilio-Signature Twilio sends with a form post to
// fullURL: the URL and every field's name and first value, in name order,
// under HMAC-SHA1 with the auth token.
func SignForm(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	s := fullURL
	for _, k := range keys {
		s += k + form.Get(k)
	}
	return sign(authToken, s)
}

// SignJSON returns the URL Twilio posts a JSON body to (fullURL with the
// body's SHA-256 as the bodySHA256 query field) and its signature.
func SignJSON(authToken, fullURL string, body []byte) (signedURL, signature string) {
	sum := sha256.Sum256(body)
	sep := "?"
	if u, err := url.Parse(fullURL); err == nil && u.RawQuery != "" {
		sep = "&"
	}
	signedURL = fullURL + sep + "bodySHA256=" + hex.EncodeToString(sum[:])
	return signedURL, sign(authToken, signedURL)
}

func sign(authToken, s string) string {
	h := hmac.New(sha1.New, []byte(authToken))
	h.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
