package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/telegram"
)

// telegramConfig is every HELPLINE_TELEGRAM_* setting, read once here.
type telegramConfig struct {
	Token          string  // HELPLINE_TELEGRAM_TOKEN
	APIURL         string  // HELPLINE_TELEGRAM_API_URL
	Polling        bool    // HELPLINE_TELEGRAM_MODE=polling
	Secret         string  // HELPLINE_TELEGRAM_SECRET
	PublicURL      string  // HELPLINE_PUBLIC_URL
	MaxConnections int     // HELPLINE_TELEGRAM_MAX_CONNECTIONS
	ChatRate       float64 // HELPLINE_TELEGRAM_CHAT_RATE
	Rate           float64 // HELPLINE_TELEGRAM_RATE
}

// validSecret is what Telegram accepts as a webhook's secret token.
var validSecret = regexp.MustCompile(`^[A-Za-z0-9_-]{16,256}$`)

// readTelegramConfig reads the Telegram settings; Token is empty when
// Telegram is not configured. The webhook mode needs a secret.
func readTelegramConfig(getenv func(string) string) (telegramConfig, error) {
	c := telegramConfig{
		Token:     getenv("HELPLINE_TELEGRAM_TOKEN"),
		APIURL:    getenv("HELPLINE_TELEGRAM_API_URL"),
		Secret:    getenv("HELPLINE_TELEGRAM_SECRET"),
		PublicURL: strings.TrimRight(getenv("HELPLINE_PUBLIC_URL"), "/"),
	}
	if c.Token == "" {
		return c, nil
	}
	var errs []error
	switch mode := getenv("HELPLINE_TELEGRAM_MODE"); mode {
	case "", "webhook":
	case "polling":
		c.Polling = true
	default:
		errs = append(errs, fmt.Errorf("HELPLINE_TELEGRAM_MODE=%q: want webhook or polling", mode))
	}
	if !c.Polling && !validSecret.MatchString(c.Secret) {
		errs = append(errs, errors.New("HELPLINE_TELEGRAM_SECRET: the webhook needs a secret of 16 to 256 letters, digits, _ or -"))
	}
	if u, err := url.Parse(c.APIURL); c.APIURL != "" && (err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https")) {
		errs = append(errs, fmt.Errorf("HELPLINE_TELEGRAM_API_URL=%q: want an http(s) URL", c.APIURL))
	}
	rate := func(name string, def float64) float64 {
		v := getenv(name)
		if v == "" {
			return def
		}
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want messages a second, 0 for no limit", name, v))
		}
		if r == 0 {
			return -1 // the channel's "no limit"
		}
		return r
	}
	c.ChatRate = rate("HELPLINE_TELEGRAM_CHAT_RATE", 1)
	c.Rate = rate("HELPLINE_TELEGRAM_RATE", 30)
	c.MaxConnections = 40
	if v := getenv("HELPLINE_TELEGRAM_MAX_CONNECTIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			errs = append(errs, fmt.Errorf("HELPLINE_TELEGRAM_MAX_CONNECTIONS=%q: want 1 to 100", v))
		}
		c.MaxConnections = n
	}
	return c, errors.Join(errs...)
}

// setupTelegram serves Telegram when HELPLINE_TELEGRAM_TOKEN is set: the
// webhook at /telegram/webhook, or a polling loop, and the sender.
func setupTelegram(w *wiring) error {
	cfg, err := readTelegramConfig(w.getenv)
	if err != nil || cfg.Token == "" {
		return err
	}
	api, err := telegram.NewAPI(cfg.Token, cfg.APIURL, telegram.NewHTTPClient())
	if err != nil {
		return err
	}
	engine := w.engine
	ch := telegram.New(api, telegram.Deps{
		Dispatcher: w.disp, Marks: w.store, Trail: w.store, Counter: w.store, Keys: w.keys, Texts: w.cat, Log: w.log,
	}, telegram.Options{
		Secret: cfg.Secret, Polling: cfg.Polling, ChatRate: cfg.ChatRate, Rate: cfg.Rate,
		Menu:    menuItems(engine.Set()),
		IsClear: func(text string) bool { return engine.CommandName(text) == "clear" },
	})
	ch.Routes(w.mux)
	w.senders[bot.Telegram] = ch
	w.background = append(w.background, ch.Run)
	w.ready = append(w.ready, ch.Ready)
	mode := "webhook at " + telegram.WebhookPath
	if cfg.Polling {
		mode = "long polling"
	}
	w.log.Info("telegram serving", "mode", mode)
	return nil
}

// menuItems makes the command menu from the global commands: each command
// with a slash form, described by the message telegram.<name>.
func menuItems(set *flow.Set) []telegram.MenuItem {
	var items []telegram.MenuItem
	for _, cmd := range set.Global.Commands {
		if len(cmd.Slash) > 0 {
			items = append(items, telegram.MenuItem{
				Command:     strings.ToLower(strings.TrimPrefix(cmd.Slash[0], "/")),
				Description: "telegram." + cmd.Name,
			})
		}
	}
	return items
}

const telegramUsage = `usage: helpline telegram webhook set|delete|info

  set     register HELPLINE_PUBLIC_URL/telegram/webhook with HELPLINE_TELEGRAM_SECRET
  delete  remove the webhook (pending updates stay for polling)
  info    show the webhook as Telegram sees it
`

// runTelegram manages the bot's webhook.
func runTelegram(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 2 || args[0] != "webhook" {
		return usageError(telegramUsage)
	}
	cfg, err := readTelegramConfig(getenv)
	if err != nil {
		return err
	}
	if cfg.Token == "" {
		return errors.New("HELPLINE_TELEGRAM_TOKEN is not set")
	}
	api, err := telegram.NewAPI(cfg.Token, cfg.APIURL, telegram.NewHTTPClient())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	switch args[1] {
	case "set":
		return setWebhook(ctx, api, cfg, stdout)
	case "delete":
		if err := api.DeleteWebhook(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "webhook deleted")
		return nil
	case "info":
		return webhookInfo(ctx, api, stdout)
	}
	return usageError(telegramUsage)
}

func setWebhook(ctx context.Context, api *telegram.API, cfg telegramConfig, stdout io.Writer) error {
	u, err := url.Parse(cfg.PublicURL)
	if cfg.PublicURL == "" || err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("HELPLINE_PUBLIC_URL=%q: want the https address this server is reached at", cfg.PublicURL)
	}
	if cfg.Polling {
		return errors.New("HELPLINE_TELEGRAM_MODE=polling: a webhook would stop the polling")
	}
	hook := cfg.PublicURL + telegram.WebhookPath
	if err := api.SetWebhook(ctx, hook, cfg.Secret, cfg.MaxConnections); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "webhook set: %s (max %d connections; updates: %s)\n", hook, cfg.MaxConnections, strings.Join(telegram.AllowedUpdates, ", "))
	return nil
}

func webhookInfo(ctx context.Context, api *telegram.API, stdout io.Writer) error {
	info, err := api.WebhookInfo(ctx)
	if err != nil {
		return err
	}
	url := info.URL
	if url == "" {
		url = "(none: the bot polls, or is not served)"
	}
	fmt.Fprintf(stdout, "url:              %s\npending updates:  %d\nmax connections:  %d\nallowed updates:  %s\n",
		url, info.PendingUpdateCount, info.MaxConnections, strings.Join(info.AllowedUpdates, ", "))
	if info.LastErrorDate != 0 {
		fmt.Fprintf(stdout, "last error:       %s: %s\n", time.Unix(int64(info.LastErrorDate), 0).UTC().Format(time.RFC3339), info.LastErrorMessage)
	}
	return nil
}
