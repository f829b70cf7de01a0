package telegram

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/helpline/helpline/bot"
)

// The update is decoded into the few fields the helpline reads, not into
// the library's full models: a field the library types differently from
// what Telegram sent (a numeric inline query ID) must not cost a person's
// message, and content the bot never reads (a contact's phone number, a
// file's ID) is never decoded at all.
type update struct {
	ID            int64           `json:"update_id"`
	Message       *message        `json:"message"`
	EditedMessage json.RawMessage `json:"edited_message"`
	CallbackQuery *callback       `json:"callback_query"`
	MyChatMember  *memberUpdate   `json:"my_chat_member"`
}

type message struct {
	ID   int    `json:"message_id"`
	From *user  `json:"from"`
	Chat *chat  `json:"chat"`
	Text string `json:"text"`
	// Service messages of a private chat: not something the person said.
	Pinned      json.RawMessage `json:"pinned_message"`
	AutoDelete  json.RawMessage `json:"message_auto_delete_timer_changed"`
	WriteAccess json.RawMessage `json:"write_access_allowed"`
	Background  json.RawMessage `json:"chat_background_set"`
}

type user struct {
	ID           int64  `json:"id"`
	LanguageCode string `json:"language_code"`
}

type chat struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

type callback struct {
	ID      string `json:"id"`
	From    *user  `json:"from"`
	Message *struct {
		ID   int   `json:"message_id"`
		Chat *chat `json:"chat"`
	} `json:"message"`
	Data string `json:"data"`
}

type memberUpdate struct {
	Chat          *chat `json:"chat"`
	NewChatMember struct {
		Status string `json:"status"`
	} `json:"new_chat_member"`
}

// action says what an update asks of the channel.
type action uint8

const (
	// ignore: nothing to do but count it (reason says why).
	ignore action = iota
	// converse: a person's message or tap, for the dispatcher.
	converse
	// blocked: the person blocked the bot.
	blocked
	// unblocked: the person came back.
	unblocked
)

// event is what one update means to the helpline.
type event struct {
	update int64
	action action
	reason string // for ignore: a fixed word, safe for a counter's name
	in     bot.Inbound
	chat   int64 // the private chat, 0 when there is none
	// msg is the ID of the person's message, recorded for clear chat.
	msg int
	// callback is the ID of a tap to answer, whatever becomes of it.
	callback string
}

// validPayload is what Telegram allows in a /start deep link.
var validPayload = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// decode reads one update. An error means the body is not an update at all.
func decode(body []byte) (event, error) {
	var u update
	if err := json.Unmarshal(body, &u); err != nil {
		return event{}, err
	}
	ev := event{update: u.ID}
	switch {
	case u.Message != nil:
		ev.message(u.Message)
	case u.CallbackQuery != nil:
		ev.tap(u.CallbackQuery)
	case u.MyChatMember != nil:
		ev.member(u.MyChatMember)
	case present(u.EditedMessage):
		ev.reason = "edited"
	default:
		ev.reason = "other"
	}
	return ev, nil
}

func present(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

func private(c *chat) bool { return c != nil && c.Type == "private" && c.ID != 0 }

func (ev *event) message(m *message) {
	switch {
	case !private(m.Chat):
		ev.reason = "group"
		return
	case present(m.Pinned) || present(m.AutoDelete) || present(m.WriteAccess) || present(m.Background):
		ev.reason = "service"
		return
	}
	ev.action, ev.chat, ev.msg = converse, m.Chat.ID, m.ID
	ev.in = ev.inbound(m.Chat.ID, m.From)
	ev.in.Text = m.Text
	ev.in.Unsupported = m.Text == ""
	ev.in.Start = startPayload(m.Text)
	ev.in.Ref = ref(refMessage, m.ID)
}

func (ev *event) tap(q *callback) {
	ev.callback = q.ID
	if q.Message == nil || !private(q.Message.Chat) || q.Data == "" {
		ev.reason = "tap"
		return
	}
	ev.action, ev.chat = converse, q.Message.Chat.ID
	ev.in = ev.inbound(q.Message.Chat.ID, q.From)
	ev.in.Choice = q.Data
	ev.in.Ref = ref(refKeyboard, q.Message.ID)
}

func (ev *event) member(m *memberUpdate) {
	if !private(m.Chat) {
		ev.reason = "group"
		return
	}
	switch m.NewChatMember.Status {
	case "kicked":
		ev.action = blocked
	case "member":
		ev.action = unblocked
	default:
		ev.reason = "member"
		return
	}
	ev.chat = m.Chat.ID
	ev.in = ev.inbound(m.Chat.ID, nil)
}

func (ev *event) inbound(chat int64, from *user) bot.Inbound {
	in := bot.Inbound{Channel: bot.Telegram, Address: strconv.FormatInt(chat, 10), ID: "tg:" + strconv.FormatInt(ev.update, 10), Seq: ev.update}
	if from != nil && from.LanguageCode != "" {
		in.LangHints = []string{from.LanguageCode}
	}
	return in
}

// startPayload returns the payload of a /start deep link, or "".
func startPayload(text string) string {
	cmd, payload, ok := strings.Cut(text, " ")
	if !ok || (cmd != "/start" && !strings.HasPrefix(cmd, "/start@")) {
		return ""
	}
	payload = strings.TrimSpace(payload)
	if !validPayload.MatchString(payload) {
		return ""
	}
	return payload
}

// A reference travels with the replies to a message (bot.Inbound.Ref): a
// letter says what the person did, a number names their message.
const (
	refMessage  = 'm' // they wrote message N
	refKeyboard = 'k' // they tapped a button of message N: the reply replaces it
	refClear    = 'c' // message N asks to clear the chat
)

func ref(kind byte, msg int) string { return string(kind) + strconv.Itoa(msg) }

// parseRef reads a reference; kind is 0 for none, which means the reply
// answers no message of the person (a counsellor wrote).
func parseRef(s string) (kind byte, msg int) {
	if len(s) < 2 {
		return 0, 0
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil {
		return 0, 0
	}
	return s[0], n
}
