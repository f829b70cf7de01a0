package telegram

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// WebhookPath is where Telegram posts updates.
const WebhookPath = "/telegram/webhook"

// secretHeader carries the webhook's secret token.
const secretHeader = "X-Telegram-Bot-Api-Secret-Token"

// maxBody bounds an update's body; real ones are a few kilobytes.
const maxBody = 1 << 20

// Routes adds the webhook to mux, when the channel has a secret and does
// not poll.
func (c *Channel) Routes(mux *http.ServeMux) {
	if c.opts.Polling || c.opts.Secret == "" {
		return
	}
	mux.HandleFunc("POST "+WebhookPath, c.webhook)
}

// webhook takes one update. It answers 200 only once the update is
// committed, so Telegram delivers it again after a crash; an update the bot
// cannot read or does not handle is answered 200 and counted, so that it
// does not block the bot's queue. A tap is answered in the response itself.
func (c *Channel) webhook(w http.ResponseWriter, r *http.Request) {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(secretHeader)), []byte(c.opts.Secret)) != 1 {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			c.count(r.Context(), "telegram.ignored.too_large")
			w.WriteHeader(http.StatusOK)
		}
		return
	}
	ev, err := decode(body)
	if err != nil {
		c.count(r.Context(), "telegram.ignored.undecodable")
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := c.handle(r.Context(), ev); err != nil {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	if ev.callback == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answerCallback{Method: "answerCallbackQuery", ID: ev.callback})
}

// answerCallback is a Bot API call made in a webhook's response.
type answerCallback struct {
	Method string `json:"method"`
	ID     string `json:"callback_query_id"`
}
