package telegram

import (
	"encoding/binary"
	"hash/maphash"
	"sync"

	"github.com/go-telegram/bot/models"
)

// maxEdits bounds the edits remembered: enough to cover the retries of the
// last minutes on a busy replica, a few hundred kilobytes at most.
const maxEdits = 1 << 14

// edits remembers the edits this replica made, as keyed hashes of the chat,
// the message and the new content, so that Telegram's "message is not
// modified" can be told apart: after an edit of ours it means a retried
// send already did the work; otherwise the tapped message already read
// like the answer, and the person would see nothing happen. Nothing in it
// can be read back: it holds hashes under a seed that lives in memory only.
type edits struct {
	seed maphash.Seed
	mu   sync.Mutex
	set  map[uint64]struct{}
	ring []uint64
	next int
}

func newEdits() *edits {
	return &edits{seed: maphash.MakeSeed(), set: make(map[uint64]struct{}), ring: make([]uint64, maxEdits)}
}

func (e *edits) key(chat int64, msg int, text string, kb *models.InlineKeyboardMarkup) uint64 {
	var h maphash.Hash
	h.SetSeed(e.seed)
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(chat))
	binary.LittleEndian.PutUint64(b[8:], uint64(msg))
	h.Write(b[:])
	h.WriteString(text)
	if kb != nil {
		// The fields the helpline's keyboards use, each row after its
		// number of buttons and each field after its length, so that no
		// two keyboards hash alike by where their parts end.
		number := func(n int) {
			binary.LittleEndian.PutUint64(b[:8], uint64(n))
			h.Write(b[:8])
		}
		field := func(s string) {
			number(len(s))
			h.WriteString(s)
		}
		for _, row := range kb.InlineKeyboard {
			number(len(row))
			for _, k := range row {
				field(k.Text)
				field(k.CallbackData)
				field(k.URL)
				field(k.Style)
			}
		}
	}
	return h.Sum64()
}

// made records an edit that succeeded, forgetting the oldest when full.
func (e *edits) made(k uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.set[k]; ok {
		return
	}
	delete(e.set, e.ring[e.next])
	e.ring[e.next] = k
	e.set[k] = struct{}{}
	e.next = (e.next + 1) % len(e.ring)
}

// ours reports whether this replica made the edit k.
func (e *edits) ours(k uint64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.set[k]
	return ok
}
