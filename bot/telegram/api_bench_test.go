package telegram

import (
	"context"
	"testing"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/helpline/helpline/bot/telegram/telegramtest"
)

// BenchmarkSendText compares a reply with a keyboard sent as JSON, as the
// helpline sends it, with the same reply sent through go-telegram/bot's own
// SendMessage, which sends a multipart form; both against the fake Bot API.
func BenchmarkSendText(b *testing.B) {
	fake := telegramtest.New()
	defer fake.Close()
	fake.Quiet = true
	api, err := NewAPI(fake.Token, fake.URL, NewHTTPClient())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
		{{Text: "Yes", CallbackData: "yes"}}, {{Text: "No", CallbackData: "no"}}, {{Text: "Back to the menu", CallbackData: "menu"}},
	}}
	text := "Did someone take your passport or ID card, or keep it \"safe\" for you?"
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := api.SendText(ctx, 42, text, kb); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("library", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := api.b.SendMessage(ctx, &tg.SendMessageParams{ChatID: 42, Text: text, ReplyMarkup: kb}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
