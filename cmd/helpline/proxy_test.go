package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestBehindProxies: the client address comes from X-Forwarded-For only
// for a request from a trusted proxy, and is the rightmost address there
// that is not a trusted proxy; anyone else's header is ignored.
func TestBehindProxies(t *testing.T) {
	trusted, err := parseProxies("10.0.0.0/8, 192.0.2.7/32")
	if err != nil {
		t.Fatal(err)
	}
	var seen string
	h := behindProxies(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.RemoteAddr }))
	for _, c := range []struct{ remote, xff, want string }{
		{"10.1.2.3:5000", "203.0.113.9", "203.0.113.9:0"},
		{"10.1.2.3:5000", "198.51.100.1, 203.0.113.9, 10.0.0.5", "203.0.113.9:0"},
		{"192.0.2.7:443", "2001:db8::1", "[2001:db8::1]:0"},
		{"203.0.113.50:5000", "1.2.3.4", "203.0.113.50:5000"}, // not a proxy: the header is a lie
		{"10.1.2.3:5000", "", "10.1.2.3:5000"},
		{"10.1.2.3:5000", "not-an-address, 10.0.0.9", "10.1.2.3:5000"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if seen != c.want {
			t.Errorf("from %s with %q: client %s, want %s", c.remote, c.xff, seen, c.want)
		}
	}
	if _, err := parseProxies("10.0.0.0/33"); err == nil {
		t.Error("a bad CIDR was accepted")
	}
}
