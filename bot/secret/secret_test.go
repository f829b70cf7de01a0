package secret_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/secret"
)

func keys(t *testing.T, s string) *secret.Keys {
	t.Helper()
	k, err := secret.New([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestPersonIDIsStableAndSeparatesChannels(t *testing.T) {
	k := keys(t, "0123456789abcdef0123456789abcdef")
	a, b := k.PersonID(bot.SMS, "+37255512345"), k.PersonID(bot.SMS, "+37255512345")
	if a != b || len(a) != 22 {
		t.Fatalf("IDs %q %q: want equal, 22 characters", a, b)
	}
	if k.PersonID(bot.WhatsApp, "+37255512345") == a {
		t.Fatal("the same number on another channel must be another person")
	}
	if keys(t, "another secret of at least 32 bytes!").PersonID(bot.SMS, "+37255512345") == a {
		t.Fatal("another secret must give another ID")
	}
	if bytes.Contains([]byte(a), []byte("5551")) {
		t.Fatal("the ID shows the number")
	}
}

func TestSealOpen(t *testing.T) {
	k := keys(t, "0123456789abcdef0123456789abcdef")
	sealed := k.Seal([]byte("+37255512345"), "pid1")
	if bytes.Contains(sealed, []byte("55512345")) {
		t.Fatal("sealed bytes show the address")
	}
	if got, err := k.Open(sealed, "pid1"); err != nil || string(got) != "+37255512345" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := k.Open(sealed, "pid2"); !errors.Is(err, secret.ErrOpen) {
		t.Fatalf("opened under another person ID: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := k.Open(sealed, "pid1"); !errors.Is(err, secret.ErrOpen) {
		t.Fatalf("opened changed bytes: %v", err)
	}
	if _, err := k.Open([]byte("x"), "pid1"); !errors.Is(err, secret.ErrOpen) {
		t.Fatalf("opened short bytes: %v", err)
	}
	if _, err := secret.New([]byte("short")); err == nil {
		t.Fatal("a short secret was accepted")
	}
}

// TestPersonIDAtOnce: IDs computed by many goroutines at once, in any order,
// are the IDs computed one by one.
func TestPersonIDAtOnce(t *testing.T) {
	const secretText = "0123456789abcdef0123456789abcdef"
	one, many := keys(t, secretText), keys(t, secretText)
	want := make([]string, 200)
	for i := range want {
		want[i] = one.PersonID(bot.Telegram, fmt.Sprint(900000000+i))
	}
	var wg sync.WaitGroup
	got := make([]string, len(want))
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < len(want); i += 8 {
				many.PersonID(bot.SMS, "+3725550000") // another person in between
				got[i] = many.PersonID(bot.Telegram, fmt.Sprint(900000000+i))
			}
		})
	}
	wg.Wait()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ID %d: %q at once, %q alone", i, got[i], want[i])
		}
	}
}

func BenchmarkPersonID(b *testing.B) {
	k, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		k.PersonID(bot.Telegram, "912345678")
	}
}
