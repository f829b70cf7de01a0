package twilio

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/helpline/helpline/bot"
)

func TestInboundFromFixtures(t *testing.T) {
	const id = "tw:SMe287d7109a5a925f182f0e07fe5b223b"
	for name, want := range map[string]bot.Inbound{
		"courier_sms_receive.json":       {Channel: bot.SMS, Address: "+14133881111", ID: id, Text: "Msg"},
		"courier_sms_receive_media.json": {Channel: bot.SMS, Address: "+14133881111", ID: id, Unsupported: true},
		"courier_whatsapp_receive.json":  {Channel: bot.WhatsApp, Address: "whatsapp:+14133881111", ID: id, Text: "Msg"},
	} {
		f := loadFixture(t, name)
		p, err := parseParams(f.ContentType, []byte(f.RawBody))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(map[string]string(p), f.Params) {
			t.Errorf("%s: fields %v, want %v", name, p, f.Params)
		}
		got, err := inbound(p)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v %v, want %+v", name, got, err, want)
		}
	}
}

func TestInboundRefusesWhatCannotBeAnswered(t *testing.T) {
	sid := "SM0123456789abcdef0123456789abcdef"
	for name, p := range map[string]params{
		"no sid":         {"From": "+37255512345", "Body": "x"},
		"bad sid":        {"MessageSid": "SM<script>", "From": "+37255512345"},
		"no sender":      {"MessageSid": sid, "Body": "x"},
		"short code":     {"MessageSid": sid, "From": "12345"},
		"alphanumeric":   {"MessageSid": sid, "From": "HELPLINE"},
		"whatsapp empty": {"MessageSid": sid, "From": "whatsapp:"},
	} {
		if in, err := inbound(p); err == nil {
			t.Errorf("%s: taken as %+v", name, in)
		}
	}
}

func TestInboundHints(t *testing.T) {
	p := params{"MessageSid": "SM0123456789abcdef0123456789abcdef", "From": "whatsapp:+37255512345", "Body": " "}
	in, err := inbound(p)
	if err != nil || in.Country != "EE" || !reflect.DeepEqual(in.LangHints, []string{"et"}) || !in.Unsupported {
		t.Fatalf("%+v %v: want country EE, hint et, and an empty body unsupported", in, err)
	}
}

func TestCountry(t *testing.T) {
	for number, want := range map[string]string{
		"+37255512345":          "EE",
		"whatsapp:+37255512345": "EE",
		"+37120012345":          "LV",
		"+37060012345":          "LT",
		"+358401234567":         "FI",
		"+46701234567":          "SE",
		"+79161234567":          "RU",
		"+77011234567":          "KZ",
		"+380501234567":         "UA",
		"+447700900123":         "GB",
		"+12025550123":          "", // the US, Canada or the Caribbean
		"+80012345678":          "", // not a country
		"37255512345":           "",
		"":                      "",
	} {
		if got := Country(number); got != want {
			t.Errorf("Country(%q) = %q, want %q", number, got, want)
		}
	}
}

// FuzzWebhook feeds the webhook parser any body: it never panics, and what
// it takes is a well-formed message.
func FuzzWebhook(f *testing.F) {
	for _, name := range []string{"courier_sms_receive.json", "courier_sms_receive_media.json", "courier_whatsapp_receive.json", "courier_status_failed_21610_stop.json"} {
		fx := loadFixture(f, name)
		f.Add(fx.ContentType, []byte(fx.RawBody))
	}
	f.Add("application/json", []byte(`{"MessageSid":"SM0123456789abcdef0123456789abcdef","From":"+37255512345","Body":"Tere","NumMedia":1}`))
	f.Add("application/json; charset=utf-8", []byte(`{"From":["x"],"Body":null}`))
	f.Add("application/x-www-form-urlencoded", []byte("MessageSid=SM0123456789abcdef0123456789abcdef&From=%2B79161234567&Body=%D0%A1%D1%82%D0%BE%D0%BF&Body=x"))
	f.Add("", []byte("%zz&;=&From=%00"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		p, err := parseParams(contentType, body)
		if err != nil {
			return
		}
		in, err := inbound(p)
		if err != nil {
			return
		}
		if sid, ok := strings.CutPrefix(in.ID, "tw:"); !ok || !validSID.MatchString(sid) {
			t.Fatalf("ID %q", in.ID)
		}
		ch, number := channelOf(in.Address)
		if ch != in.Channel || !validNumber.MatchString(number) {
			t.Fatalf("address %q on %s", in.Address, in.Channel)
		}
		if len(in.Text) > maxText || (utf8.ValidString(p["Body"]) && !utf8.ValidString(in.Text)) {
			t.Fatalf("text of %d bytes, valid %v", len(in.Text), utf8.ValidString(in.Text))
		}
		if in.Country != "" && len(in.Country) != 2 {
			t.Fatalf("country %q", in.Country)
		}
	})
}
