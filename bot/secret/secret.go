// Package secret turns the deployment's one secret into the keys that make
// people pseudonymous: a person ID that cannot be turned back into an
// address, and sealed addresses that only this deployment can open.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/helpline/helpline/bot"
)

// MinLength is the shortest secret accepted, in bytes.
const MinLength = 32

// ErrOpen means sealed bytes could not be opened: they were changed, or were
// sealed under another secret.
var ErrOpen = errors.New("cannot open sealed data")

// Keys derives every key from one secret.
type Keys struct {
	id   []byte
	aead cipher.AEAD
	seen cipher.Block // SeenBit's permutation
	// macs keeps keyed HMAC states for PersonID: keying one costs more
	// than the hash of an address.
	macs sync.Pool
}

// New derives the keys from secret with HKDF-SHA256, one key per purpose.
func New(secret []byte) (*Keys, error) {
	if len(secret) < MinLength {
		return nil, fmt.Errorf("the secret must be at least %d bytes", MinLength)
	}
	id, err := hkdf.Key(sha256.New, secret, nil, "helpline person id v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive id key: %w", err)
	}
	seal, err := hkdf.Key(sha256.New, secret, nil, "helpline seal v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive seal key: %w", err)
	}
	block, err := aes.NewCipher(seal)
	if err != nil {
		return nil, fmt.Errorf("seal cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal cipher: %w", err)
	}
	seenKey, err := hkdf.Key(sha256.New, secret, nil, "helpline seen bit v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive seen key: %w", err)
	}
	seen, err := aes.NewCipher(seenKey)
	if err != nil {
		return nil, fmt.Errorf("seen cipher: %w", err)
	}
	return &Keys{id: id, aead: aead, seen: seen}, nil
}

// Random returns a new random secret, for a process that keeps nothing.
func Random() []byte {
	b := make([]byte, MinLength)
	rand.Read(b)
	return b
}

// PersonID is the pseudonymous ID of the person at address on channel: an
// HMAC-SHA256 truncated to 128 bits, 22 characters of base64url.
func (k *Keys) PersonID(ch bot.Channel, address string) string {
	return k.mac([]byte(ch), []byte{0}, []byte(address))
}

// Mark is the mark of a message seen: a keyed hash of the person and the
// provider's message ID, 22 characters. It tells a redelivered message from
// a new one and names neither the person nor the message, so it may
// outlive an erase.
func (k *Keys) Mark(pid, msgID string) string {
	// No channel name starts with 1: a mark is never a person ID.
	return k.mac([]byte{1}, []byte(pid), []byte{0}, []byte(msgID))
}

// SeenWindow is how many sequence numbers one bitmap of SeenBit covers:
// 4096 bits, 512 bytes.
const SeenWindow = 4096

// SeenBit is where the mark of a message with sequence number seq
// (bot.Inbound.Seq) lies in partition part's bitmaps of messages seen:
// bitmap window, bit bit. Within a window the bits are a keyed permutation
// of the numbers, so a set bit names no message, and no two numbers share
// a bit: a new message is never taken for one seen before.
func (k *Keys) SeenBit(part int, seq int64) (window int64, bit int) {
	window = seq / SeenWindow
	x := int(seq % SeenWindow)
	// A four-round Feistel network over the 12 bits, two halves of 6, its
	// round function AES under a key of its own, keyed by the window and
	// the partition: a permutation of [0, 4096).
	var in, out [16]byte
	binary.BigEndian.PutUint64(in[:8], uint64(window))
	binary.BigEndian.PutUint32(in[8:12], uint32(part))
	l, r := x>>6, x&63
	for round := range 4 {
		in[12], in[13] = byte(round), byte(r)
		k.seen.Encrypt(out[:], in[:])
		l, r = r, l^int(out[0]&63)
	}
	return window, l<<6 | r
}

// CaseRef names a case in logs: a keyed hash of its code, 22 characters.
// A log outlives the case it speaks of; the code is on the person's side
// of the case too, so a log line that held it would tie a counsellor's
// actions to a person after an erase. A supervisor who holds a code and
// the secret can still find its lines.
func (k *Keys) CaseRef(code string) string {
	// No channel name starts with 2: a reference is never a person ID.
	return k.mac([]byte{2}, []byte(code))
}

// mac is the keyed HMAC-SHA256 of the parts, truncated to 128 bits, 22
// characters of base64url.
func (k *Keys) mac(parts ...[]byte) string {
	m, ok := k.macs.Get().(hash.Hash)
	if !ok {
		m = hmac.New(sha256.New, k.id)
	}
	for _, p := range parts {
		m.Write(p)
	}
	var sum [sha256.Size]byte
	id := base64.RawURLEncoding.EncodeToString(m.Sum(sum[:0])[:16])
	m.Reset()
	k.macs.Put(m)
	return id
}

// Seal encrypts b with AES-256-GCM under a random nonce, bound to ad (the
// person ID), so that a sealed address cannot be moved to another person.
func (k *Keys) Seal(b []byte, ad string) []byte {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(b)+k.aead.Overhead())
	rand.Read(nonce)
	return k.aead.Seal(nonce, nonce, b, []byte(ad))
}

// Open decrypts what Seal made with the same ad.
func (k *Keys) Open(sealed []byte, ad string) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n+k.aead.Overhead() {
		return nil, ErrOpen
	}
	b, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(ad))
	if err != nil {
		return nil, ErrOpen
	}
	return b, nil
}
