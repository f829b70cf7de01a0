package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow/flowtest"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/telegram/telegramtest"
)

// The Redis databases of the Telegram tests: each test has its own.
const (
	telegramWebhookDB = 8
	telegramPollingDB = 9
)

const telegramSecret = "telegram-webhook-secret-for-tests"

// telegramEnv is the environment of a helpline that talks to fake.
func telegramEnv(fake *telegramtest.Fake, db int) map[string]string {
	return map[string]string{
		"HELPLINE_REDIS_URL":        fmt.Sprintf("redis://%s/%d", redisServer.Addr, db),
		"HELPLINE_SECRET":           testSecret,
		"HELPLINE_LOG_LEVEL":        "debug",
		"HELPLINE_TELEGRAM_TOKEN":   fake.Token,
		"HELPLINE_TELEGRAM_API_URL": fake.URL,
		"HELPLINE_TELEGRAM_SECRET":  telegramSecret,
	}
}

// TestTelegramSelfCheckWebhook runs the binary with Telegram over the
// webhook: the whole self-check with buttons, clear chat, then erase; no
// key of the person is left, and the logs hold none of their words.
func TestTelegramSelfCheckWebhook(t *testing.T) {
	fake := telegramtest.New()
	defer fake.Close()
	srv := startServer(t, telegramEnv(fake, telegramWebhookDB))
	p := &telegramtest.Person{T: t, Fake: fake, Chat: 5550001, Lang: "en"}
	p.Deliver = func(u []byte) {
		if code, err := fake.Post(srv.url+"/telegram/webhook", telegramSecret, u); err != nil || code != http.StatusOK {
			t.Fatalf("webhook: %d %v", code, err)
		}
	}
	telegramSelfCheck(t, fake, p, telegramWebhookDB, srv.logs)
	if code, _ := fake.Post(srv.url+"/telegram/webhook", "forged-secret-0000000000", []byte(`{"update_id":1}`)); code != http.StatusUnauthorized {
		t.Fatalf("a forged secret: %d, want 401", code)
	}
	if !slices.Contains(fake.Methods(), "setMyCommands") {
		t.Fatal("no command menu was set")
	}
	if resp, err := http.Get(srv.url + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %v %v", resp, err)
	}
}

// TestTelegramSelfCheckPolling runs the same conversation through
// getUpdates.
func TestTelegramSelfCheckPolling(t *testing.T) {
	fake := telegramtest.New()
	defer fake.Close()
	env := telegramEnv(fake, telegramPollingDB)
	env["HELPLINE_TELEGRAM_MODE"] = "polling"
	delete(env, "HELPLINE_TELEGRAM_SECRET")
	srv := startServer(t, env)
	if resp, _ := http.Post(srv.url+"/telegram/webhook", "application/json", strings.NewReader("{}")); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a polling helpline serves no webhook: %v", resp)
	}
	p := &telegramtest.Person{T: t, Fake: fake, Chat: 5550002, Lang: "en", Deliver: fake.Queue}
	telegramSelfCheck(t, fake, p, telegramPollingDB, srv.logs)
}

// telegramSelfCheck walks the self-check, clears the chat and asks to be
// forgotten.
func telegramSelfCheck(t *testing.T, fake *telegramtest.Fake, p *telegramtest.Person, db int, logs *syncBuffer) {
	t.Helper()
	_, cat := flowtest.Shipped(t)
	en := func(id string) string { s, _ := cat.Text("en", id, nil, nil); return s }

	r := p.Say("hello, my number is +37255512345")
	r = p.Tap(r.Buttons[0].Text) // English
	p.Tap(en("welcome.safe_yes"))
	r = p.Tap(en("menu.selfcheck"))
	answered := 0
	for len(r.Buttons) > 0 && r.Buttons[0].Text == en("common.yes") {
		r = p.Tap(en("common.yes"))
		answered++
	}
	if answered != selfcheckSigns(t) || !strings.Contains(r.Text, en("danger.offer")) {
		t.Fatalf("after %d yes answers, not free to leave and threats should offer an urgent counsellor first: %q", answered, r.Text)
	}
	if r = p.Tap(en("selfcheck.see_result")); !strings.Contains(r.Text, fmt.Sprint(answered)) {
		t.Fatalf("the result should count %d signs: %q", answered, r.Text)
	}
	sent := slices.Clone(p.IDs)
	if r = p.Say("/clear"); r.Text != en("clear.done") {
		t.Fatalf("clear chat answered %q", r.Text)
	}
	var deleted []int
	for _, c := range fake.Calls() {
		var ids []int
		if c.Method == "deleteMessages" && json.Unmarshal([]byte(c.Params["message_ids"]), &ids) == nil {
			deleted = append(deleted, ids...)
		}
	}
	for _, id := range sent {
		if !slices.Contains(deleted, id) {
			t.Fatalf("message %d was not deleted by clear chat: %v", id, deleted)
		}
	}
	if r = p.Say("forget me"); !strings.Contains(r.Text, en("erase.done")) {
		t.Fatalf("erase answered %q", r.Text)
	}

	keys, err := secret.New([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	pid := keys.PersonID(bot.Telegram, telegramtest.Address(p.Chat))
	rdb := redis.NewClient(&redis.Options{Addr: redisServer.Addr, DB: db})
	defer rdb.Close()
	left, err := rdb.Keys(context.Background(), "*"+pid+"*").Result()
	if err != nil || len(left) != 0 {
		t.Fatalf("keys of the person left after erase: %v %v", left, err)
	}
	assertOutboxEmpty(t, rdb, pid)
	text := logs.String()
	if !strings.Contains(text, pid) {
		t.Fatalf("the logs should name the pseudonymous ID, to show they were read:\n%s", text)
	}
	for _, word := range []string{fmt.Sprint(p.Chat), "+37255512345", "37255512345", "my number", "forget me", "/clear", fake.Token, telegramSecret} {
		if strings.Contains(text, word) {
			t.Errorf("the logs contain %q", word)
		}
	}
}

// TestTelegramWebhookCommand registers, shows and deletes the webhook.
func TestTelegramWebhookCommand(t *testing.T) {
	fake := telegramtest.New()
	defer fake.Close()
	env := telegramEnv(fake, telegramWebhookDB)
	env["HELPLINE_PUBLIC_URL"] = "https://helpline.example.org/"
	env["HELPLINE_TELEGRAM_MAX_CONNECTIONS"] = "20"
	telegramCmd := func(sub string) string {
		var out syncBuffer
		if err := run(context.Background(), []string{"telegram", "webhook", sub}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &out); err != nil {
			t.Fatalf("telegram webhook %s: %v", sub, err)
		}
		return out.String()
	}
	telegramCmd("set")
	calls := fake.Calls()
	set := calls[len(calls)-1]
	if set.Method != "setWebhook" || set.Params["url"] != "https://helpline.example.org/telegram/webhook" ||
		set.Params["secret_token"] != telegramSecret || set.Params["max_connections"] != "20" ||
		set.Params["allowed_updates"] != `["message","callback_query","my_chat_member"]` {
		t.Fatalf("setWebhook %v", set.Params)
	}
	if info := telegramCmd("info"); !strings.Contains(info, "https://helpline.example.org/telegram/webhook") || strings.Contains(info, telegramSecret) {
		t.Fatalf("info:\n%s", info)
	}
	telegramCmd("delete")
	if m := fake.Methods(); m[len(m)-1] != "deleteWebhook" {
		t.Fatalf("calls %v", m)
	}
}

// TestTelegramConfiguration refuses settings that cannot work.
func TestTelegramConfiguration(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"no secret":      {map[string]string{"HELPLINE_TELEGRAM_TOKEN": "1:a"}, "HELPLINE_TELEGRAM_SECRET"},
		"short secret":   {map[string]string{"HELPLINE_TELEGRAM_TOKEN": "1:a", "HELPLINE_TELEGRAM_SECRET": "short"}, "HELPLINE_TELEGRAM_SECRET"},
		"bad mode":       {map[string]string{"HELPLINE_TELEGRAM_TOKEN": "1:a", "HELPLINE_TELEGRAM_MODE": "push"}, "HELPLINE_TELEGRAM_MODE"},
		"bad rate":       {map[string]string{"HELPLINE_TELEGRAM_TOKEN": "1:a", "HELPLINE_TELEGRAM_MODE": "polling", "HELPLINE_TELEGRAM_CHAT_RATE": "fast"}, "HELPLINE_TELEGRAM_CHAT_RATE"},
		"bad API URL":    {map[string]string{"HELPLINE_TELEGRAM_TOKEN": "1:a", "HELPLINE_TELEGRAM_MODE": "polling", "HELPLINE_TELEGRAM_API_URL": "api.telegram.org"}, "HELPLINE_TELEGRAM_API_URL"},
		"set over http":  {map[string]string{"HELPLINE_TELEGRAM_TOKEN": "1:a", "HELPLINE_TELEGRAM_SECRET": telegramSecret, "HELPLINE_PUBLIC_URL": "http://x.org"}, "HELPLINE_PUBLIC_URL"},
		"no token (set)": {map[string]string{}, "HELPLINE_TELEGRAM_TOKEN"},
	} {
		args := []string{"serve"}
		if strings.Contains(name, "set") {
			args = []string{"telegram", "webhook", "set"}
		}
		tc.env["HELPLINE_ADDR"] = "127.0.0.1:0"
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // a serve that starts stops at once
		var out syncBuffer
		err := run(ctx, args, func(k string) string { return tc.env[k] }, strings.NewReader(""), &out, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %s", name, err, tc.want)
		}
	}
}
