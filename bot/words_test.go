package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestSessionWordsOnlyGrow: the first words, as sessions of this version
// store them, stay where they are. New words go after them; when the list
// grows, this test still holds.
func TestSessionWordsOnlyGrow(t *testing.T) {
	const first = 143 // the words of session encoding version 3 as it shipped
	const sum = "d248fe66f74211b1adeb9f1dd993d55f145fdcb67f178680ea036858a7d915cf"
	if len(sessionWords) < first {
		t.Fatalf("%d session words, fewer than the %d sessions already use: a word was removed", len(sessionWords), first)
	}
	h := sha256.Sum256([]byte(strings.Join(sessionWords[:first], "\n")))
	if got := hex.EncodeToString(h[:]); got != sum {
		t.Errorf("the first %d session words changed (checksum %s): a word was moved, changed or removed, and stored sessions would decode to other names; add new words at the end only", first, got)
	}
}
