package telegramtest

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// Message returns the update of a text message in a private chat, and the
// message's ID.
func (f *Fake) Message(chat int64, text, lang string) ([]byte, int) {
	id := f.MessageID()
	return f.update("message", map[string]any{
		"message_id": id, "date": time.Now().Unix(), "text": text,
		"from": user(chat, lang), "chat": map[string]any{"id": chat, "type": "private", "first_name": "Test"},
	}), id
}

// Photo returns the update of a photo sent in a private chat, and the
// message's ID.
func (f *Fake) Photo(chat int64) ([]byte, int) {
	id := f.MessageID()
	return f.update("message", map[string]any{
		"message_id": id, "date": time.Now().Unix(), "from": user(chat, ""),
		"chat":  map[string]any{"id": chat, "type": "private"},
		"photo": []map[string]any{{"file_id": "AgACAgQAAxkBAAIB", "file_unique_id": "AQAD", "width": 90, "height": 90}},
	}), id
}

// GroupMessage returns the update of a text message in a group.
func (f *Fake) GroupMessage(group, from int64, text string) []byte {
	return f.update("message", map[string]any{
		"message_id": f.MessageID(), "date": time.Now().Unix(), "text": text,
		"from": user(from, "en"), "chat": map[string]any{"id": group, "type": "group", "title": "A group"},
	})
}

// Tap returns the update of a tap on a button with data on message msg.
func (f *Fake) Tap(chat int64, msg int, data, lang string) []byte {
	return f.update("callback_query", map[string]any{
		"id": "cb" + time.Now().Format("150405.000000000"), "from": user(chat, lang), "chat_instance": "42", "data": data,
		"message": map[string]any{"message_id": msg, "date": time.Now().Unix(), "chat": map[string]any{"id": chat, "type": "private"}},
	})
}

// Member returns the my_chat_member update of a person who blocked the
// bot ("kicked") or came back ("member"); a negative chat is a group, which
// added or removed the bot.
func (f *Fake) Member(chat int64, status string) []byte {
	old := map[string]string{"kicked": "member", "member": "kicked"}[status]
	kind := "private"
	if chat < 0 {
		kind = "group"
	}
	return f.update("my_chat_member", map[string]any{
		"chat": map[string]any{"id": chat, "type": kind}, "from": user(chat, ""), "date": time.Now().Unix(),
		"old_chat_member": map[string]any{"status": old, "user": user(1, "")},
		"new_chat_member": map[string]any{"status": status, "user": user(1, "")},
	})
}

func user(id int64, lang string) map[string]any {
	u := map[string]any{"id": id, "is_bot": false, "first_name": "Test"}
	if lang != "" {
		u["language_code"] = lang
	}
	return u
}

func (f *Fake) update(kind string, v any) []byte {
	b, _ := json.Marshal(map[string]any{"update_id": f.UpdateID(), kind: v})
	return b
}

// Reply is a message the bot sent.
type Reply struct {
	MessageID int
	Text      string
	Buttons   []Button
}

// Button is one button of a reply's inline keyboard.
type Button struct {
	Text string `json:"text"`
	Data string `json:"callback_data"`
}

// ReplyOf reads a sendMessage call, or an editMessageText call that put a
// reply in place of an earlier message.
func ReplyOf(c Call) Reply {
	r := Reply{MessageID: c.MessageID, Text: c.Params["text"]}
	if c.Method == "editMessageText" {
		r.MessageID, _ = strconv.Atoi(c.Params["message_id"])
	}
	var kb struct {
		Rows [][]Button `json:"inline_keyboard"`
	}
	if json.Unmarshal([]byte(c.Params["reply_markup"]), &kb) == nil {
		for _, row := range kb.Rows {
			r.Buttons = append(r.Buttons, row...)
		}
	}
	return r
}

// Person is a test's Telegram user in a private chat with the bot.
type Person struct {
	T    testing.TB
	Fake *Fake
	Chat int64
	Lang string
	// Deliver hands an update to the helpline: through its webhook, or to
	// the queue it polls.
	Deliver func(update []byte)
	// Last is the last reply the person got.
	Last Reply
	// IDs are the messages of the chat, both ways, oldest first.
	IDs  []int
	seen int
}

// Say sends text and waits for the reply.
func (p *Person) Say(text string) Reply {
	p.T.Helper()
	u, id := p.Fake.Message(p.Chat, text, p.Lang)
	p.IDs = append(p.IDs, id)
	p.Deliver(u)
	return p.Next()
}

// Tap taps the button of the last reply that reads label and waits for
// the reply.
func (p *Person) Tap(label string) Reply {
	p.T.Helper()
	for _, b := range p.Last.Buttons {
		if b.Text == label {
			p.Deliver(p.Fake.Tap(p.Chat, p.Last.MessageID, b.Data, p.Lang))
			return p.Next()
		}
	}
	p.T.Fatalf("no button %q under %q", label, p.Last.Text)
	return Reply{}
}

// Next waits for the bot's next reply to the person: a new message, or an
// earlier one edited in its place (a failed call is no reply).
func (p *Person) Next() Reply {
	p.T.Helper()
	var found *Call
	ok := p.Fake.Wait(10*time.Second, func(calls []Call) bool {
		for i := p.seen; i < len(calls); i++ {
			if c := calls[i]; c.Chat() == p.Chat && c.OK &&
				(c.Method == "sendMessage" || c.Method == "editMessageText") {
				p.seen, found = i+1, &c
				return true
			}
		}
		return false
	})
	if !ok {
		p.T.Fatalf("no reply within 10s to chat %d after %q", p.Chat, p.Last.Text)
	}
	p.Last = ReplyOf(*found)
	if found.Method == "sendMessage" {
		p.IDs = append(p.IDs, p.Last.MessageID)
	}
	return p.Last
}

// Address is the helpline's address of a chat: its ID in decimal.
func Address(chat int64) string { return strconv.FormatInt(chat, 10) }
