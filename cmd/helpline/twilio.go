package main

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/twilio"
)

// setupTwilio serves SMS and WhatsApp through Twilio when
// HELPLINE_TWILIO_ACCOUNT_SID and HELPLINE_TWILIO_AUTH_TOKEN are set: the
// webhooks at /twilio/sms and /twilio/status, and a sender for both.
func setupTwilio(w *wiring) error {
	opts, err := twilioOptions(w.getenv, w.engine.Set())
	if err != nil || opts == nil {
		return err
	}
	ch, err := twilio.New(w.disp, w.store, w.cat, w.log, *opts)
	if err != nil {
		return err
	}
	ch.Routes(w.mux)
	w.background = append(w.background, ch.Run)
	w.senders[bot.SMS] = ch
	w.senders[bot.WhatsApp] = ch
	w.log.Info("twilio serving", "webhook", opts.PublicURL+"/twilio/sms", "status_callback", opts.PublicURL+"/twilio/status", "neutral", opts.Neutral)
	return nil
}

// twilioOptions reads the HELPLINE_TWILIO_* and HELPLINE_SMS_* settings. It
// returns nil when Twilio is not configured.
func twilioOptions(getenv func(string) string, set *flow.Set) (*twilio.Options, error) {
	sid, token := getenv("HELPLINE_TWILIO_ACCOUNT_SID"), getenv("HELPLINE_TWILIO_AUTH_TOKEN")
	if sid == "" && token == "" {
		return nil, nil
	}
	if sid == "" || token == "" {
		return nil, errors.New("HELPLINE_TWILIO_ACCOUNT_SID and HELPLINE_TWILIO_AUTH_TOKEN: set both, or neither")
	}
	opts := &twilio.Options{
		AccountSID:          sid,
		AuthToken:           token,
		PublicURL:           getenv("HELPLINE_PUBLIC_URL"),
		From:                getenv("HELPLINE_TWILIO_FROM"),
		MessagingServiceSID: getenv("HELPLINE_TWILIO_MESSAGING_SERVICE_SID"),
		WhatsAppFrom:        getenv("HELPLINE_TWILIO_WHATSAPP_FROM"),
		APIURL:              getenv("HELPLINE_TWILIO_API_URL"),
		Normalize:           flow.Normalize,
		Urgent:              urgentReplies(set),
	}
	if opts.PublicURL == "" {
		return nil, errors.New("HELPLINE_PUBLIC_URL is needed with Twilio: webhook signatures are checked against it")
	}
	if u, err := url.Parse(opts.APIURL); opts.APIURL != "" && (err != nil || u.Host == "") {
		return nil, fmt.Errorf("HELPLINE_TWILIO_API_URL=%q: want an absolute URL", opts.APIURL)
	}
	if v := getenv("HELPLINE_TWILIO_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 {
			return nil, fmt.Errorf("HELPLINE_TWILIO_RATE=%q: want messages per second, such as 1 or 0.5", v)
		}
		opts.Rate = r
	}
	if v := getenv("HELPLINE_SMS_NEUTRAL"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("HELPLINE_SMS_NEUTRAL=%q: want true or false", v)
		}
		opts.Neutral = b
	}
	erase, err := eraseCommand(set)
	if err != nil {
		return nil, err
	}
	opts.EraseCommand = erase
	return opts, nil
}

// eraseCommand returns the slash form of the flows' erase command: STOP
// hands it to the conversation, which forgets the person.
func eraseCommand(set *flow.Set) (string, error) {
	for _, c := range set.Global.Commands {
		if c.Erase && len(c.Slash) > 0 {
			return c.Slash[0], nil
		}
	}
	return "", errors.New("twilio: the flows have no erase command with a slash form (such as /erase): STOP could not erase")
}

// urgentReplies reports the replies that answer an alarm: those that offer
// the choices of a flow an alarm opens. They are never made neutral.
func urgentReplies(set *flow.Set) func(bot.Reply) bool {
	flows := set.AlarmFlows()
	return func(r bot.Reply) bool {
		for _, c := range r.Choices {
			id, _, _ := strings.Cut(c.ID, "/") // flow.ChoiceID: flow/node/key
			if slices.Contains(flows, id) {
				return true
			}
		}
		return false
	}
}
