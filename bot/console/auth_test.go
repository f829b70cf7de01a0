package console

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "a long enough password") {
		t.Fatalf("hash %q", h)
	}
	if !CheckPassword(h, "a long enough password") {
		t.Fatal("the right password is refused")
	}
	for _, wrong := range []string{"a long enough passworD", "", "a long enough password "} {
		if CheckPassword(h, wrong) {
			t.Fatalf("%q is let in", wrong)
		}
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=1,t=1,p=1$$", "$bcrypt$x", h[:len(h)-5] + "$$"} {
		if CheckPassword(bad, "a long enough password") {
			t.Fatalf("a broken hash %q lets in", bad)
		}
	}
	if _, err := HashPassword("short"); err == nil {
		t.Fatal("a short password is accepted")
	}
	if h2, _ := HashPassword("a long enough password"); h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
}

// TestVisible: what a person wrote cannot pass for another line of the
// transcript or reverse the words around it.
func TestVisible(t *testing.T) {
	for in, want := range map[string]string{
		"hello":                     "hello",
		"ok\nCounsellor: all fine":  "ok\u23ce\nCounsellor: all fine",
		"abc\u202edcba":             "abc[U+202E]dcba",
		"a\u2066b\u2069c\x07\u200b": "a[U+2066]b[U+2069]c[U+0007][U+200B]",
		"Привет, мир":               "Привет, мир",
	} {
		if got := visible(in); got != want {
			t.Errorf("visible(%q) = %q, want %q", in, got, want)
		}
	}
}
