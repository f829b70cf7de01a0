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

// TestSeenBitIsAPermutation: the numbers of one window and partition take
// every bit of the window once, under a keyed order that differs between
// windows, partitions and secrets.
func TestSeenBitIsAPermutation(t *testing.T) {
	k := keys(t, "0123456789abcdef0123456789abcdef")
	other := keys(t, "another secret of at least 32 bytes!")
	const base = 7 * secret.SeenWindow
	for _, part := range []int{0, 5} {
		taken := make([]bool, secret.SeenWindow)
		same, sameWindow, samePart := 0, 0, 0
		for seq := int64(base); seq < base+secret.SeenWindow; seq++ {
			w, bit := k.SeenBit(part, seq)
			if w != 7 || bit < 0 || bit >= secret.SeenWindow || taken[bit] {
				t.Fatalf("partition %d, number %d: window %d, bit %d (taken before: %v)", part, seq, w, bit, bit >= 0 && bit < secret.SeenWindow && taken[bit])
			}
			taken[bit] = true
			if _, b := other.SeenBit(part, seq); b == bit {
				same++
			}
			if _, b := k.SeenBit(part, seq+secret.SeenWindow); b == bit {
				sameWindow++
			}
			if _, b := k.SeenBit(part+1, seq); b == bit {
				samePart++
			}
		}
		// A random permutation keeps about one number in place.
		if same > 16 || sameWindow > 16 || samePart > 16 {
			t.Fatalf("bits shared with another secret %d, window %d, partition %d times of %d", same, sameWindow, samePart, secret.SeenWindow)
		}
		if w, b := k.SeenBit(part, base+5); w != 7 || b != mustBit(k, part, base+5) {
			t.Fatal("the same number gave another bit")
		}
	}
}

func mustBit(k *secret.Keys, part int, seq int64) int {
	_, b := k.SeenBit(part, seq)
	return b
}
