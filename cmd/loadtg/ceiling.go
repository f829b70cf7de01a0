package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/helpline/helpline/bot/telegram"
)

// serveCeiling runs the ceiling: the smallest go-telegram/bot bot, served
// by the library's own webhook handler or its own getUpdates loop, that
// answers every update at once with no state. It uses the helpline's HTTP
// client settings, so the two differ in what they do and not in how they
// connect.
func serveCeiling(ctx context.Context, api, mode string, stdout io.Writer) error {
	b, err := tg.New(fakeToken,
		tg.WithServerURL(api),
		tg.WithSkipGetMe(),
		tg.WithHTTPClient(time.Minute, telegram.NewHTTPClient()),
		tg.WithWebhookSecretToken(webhookSecret),
		tg.WithErrorsHandler(func(error) {}),
		tg.WithDefaultHandler(answer),
	)
	if err != nil {
		return err
	}
	if mode == "polling" {
		// The library starts a goroutine for each update it fetched, so
		// a batch is answered at once.
		fmt.Fprintln(stdout, "ceiling on getUpdates")
		b.Start(ctx)
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go b.StartWebhook(ctx)
	srv := &http.Server{Handler: b.WebhookHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Fprintf(stdout, "ceiling on http://%s/\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}

// answer replies to a message or a tap with one short message.
func answer(ctx context.Context, b *tg.Bot, u *models.Update) {
	var chat int64
	switch {
	case u.Message != nil:
		chat = u.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message.Message != nil:
		chat = u.CallbackQuery.Message.Message.Chat.ID
	default:
		return
	}
	b.SendMessage(ctx, &tg.SendMessageParams{ChatID: chat, Text: "ok"})
}
