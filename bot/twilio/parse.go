package twilio

import (
	"encoding/json"
	"errors"
	"mime"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/helpline/helpline/bot"
)

// params are the fields of a webhook post, the first value of each.
type params map[string]string

// maxText bounds the text kept of one message, in bytes. Twilio's own limit
// is 1600 characters.
const maxText = 8000

// Parse errors name the field, never its value.
var (
	errBadBody   = errors.New("twilio: webhook body unreadable")
	errNoSID     = errors.New("twilio: webhook without a valid MessageSid")
	errBadSender = errors.New("twilio: webhook without a valid From number")
)

// validSID is the form of a message SID: two letters and hex digits.
var validSID = regexp.MustCompile(`^[A-Z]{2}[0-9a-fA-F]{32}$`)

// validNumber is an E.164 phone number.
var validNumber = regexp.MustCompile(`^\+[1-9][0-9]{5,14}$`)

// parseParams reads a webhook body: a form, as Twilio's messaging webhooks
// send, or a JSON object of scalar fields, as its newer products send.
func parseParams(contentType string, body []byte) (params, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/json" {
		return parseJSON(body)
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errBadBody
	}
	p := make(params, len(vals))
	for k, v := range vals {
		p[k] = v[0]
	}
	return p, nil
}

func parseJSON(body []byte) (params, error) {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, errBadBody
	}
	p := make(params, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case string:
			p[k] = v
		case float64:
			p[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			p[k] = strconv.FormatBool(v)
		}
	}
	return p, nil
}

// Inbound turns an incoming-message webhook's fields into a message. A
// message with media (a photo, a voice note, a location) is Unsupported:
// the media is never fetched.
func inbound(p params) (bot.Inbound, error) {
	sid := p["MessageSid"]
	if sid == "" {
		sid = p["SmsMessageSid"]
	}
	if !validSID.MatchString(sid) {
		return bot.Inbound{}, errNoSID
	}
	from := p["From"]
	ch, number := channelOf(from)
	if !validNumber.MatchString(number) {
		return bot.Inbound{}, errBadSender
	}
	text := p["Body"]
	if len(text) > maxText {
		text = truncate(text, maxText)
	}
	media, _ := strconv.Atoi(p["NumMedia"])
	country := Country(number)
	return bot.Inbound{
		Channel:     ch,
		Address:     from,
		ID:          "tw:" + sid,
		Text:        text,
		Unsupported: media > 0 || strings.TrimSpace(text) == "",
		Country:     country,
		LangHints:   langHints(country),
	}, nil
}

// channelOf tells a WhatsApp address from an SMS one and returns the phone
// number in it.
func channelOf(address string) (bot.Channel, string) {
	if number, ok := strings.CutPrefix(address, "whatsapp:"); ok {
		return bot.WhatsApp, number
	}
	return bot.SMS, address
}

// truncate cuts s to at most n bytes, at a character boundary.
func truncate(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
