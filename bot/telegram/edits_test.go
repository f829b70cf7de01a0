package telegram

import (
	"testing"

	"github.com/go-telegram/bot/models"
)

// TestEditKeys: an edit is known again only with the same chat, message,
// text and keyboard; keyboards that differ in a label, a choice, or only in
// how the buttons fall into rows are different edits.
func TestEditKeys(t *testing.T) {
	e := newEdits()
	kb := func(rows ...[]models.InlineKeyboardButton) *models.InlineKeyboardMarkup {
		return &models.InlineKeyboardMarkup{InlineKeyboard: rows}
	}
	yes := models.InlineKeyboardButton{Text: "Yes", CallbackData: "q/a/0"}
	no := models.InlineKeyboardButton{Text: "No", CallbackData: "q/a/1"}
	base := e.key(1, 2, "Are you safe?", kb([]models.InlineKeyboardButton{yes, no}))
	if again := e.key(1, 2, "Are you safe?", kb([]models.InlineKeyboardButton{yes, no})); again != base {
		t.Fatal("the same edit has two keys")
	}
	for name, k := range map[string]uint64{
		"another chat":    e.key(3, 2, "Are you safe?", kb([]models.InlineKeyboardButton{yes, no})),
		"another message": e.key(1, 3, "Are you safe?", kb([]models.InlineKeyboardButton{yes, no})),
		"another text":    e.key(1, 2, "Are you safe now?", kb([]models.InlineKeyboardButton{yes, no})),
		"no keyboard":     e.key(1, 2, "Are you safe?", nil),
		"another label":   e.key(1, 2, "Are you safe?", kb([]models.InlineKeyboardButton{{Text: "✓ Yes", CallbackData: "q/a/0"}, no})),
		"another choice":  e.key(1, 2, "Are you safe?", kb([]models.InlineKeyboardButton{{Text: "Yes", CallbackData: "q/b/0"}, no})),
		"other rows":      e.key(1, 2, "Are you safe?", kb([]models.InlineKeyboardButton{yes}, []models.InlineKeyboardButton{no})),
		"parts moved":     e.key(1, 2, "Are you safe?", kb([]models.InlineKeyboardButton{{Text: "Yesq", CallbackData: "/a/0"}, no})),
	} {
		if k == base {
			t.Errorf("%s: the same key as the first edit", name)
		}
	}
}
