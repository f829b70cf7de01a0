// Package twilio is the SMS and WhatsApp channel, through Twilio: signed
// webhooks in (a person's messages and the delivery reports of ours), the
// REST API out. A person is their phone number: "+37255512345" on SMS,
// "whatsapp:+37255512345" on WhatsApp.
package twilio

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	"golang.org/x/time/rate"

	"github.com/helpline/helpline/bot"
)

// Dispatcher is what the channel needs of the dispatcher.
type Dispatcher interface {
	Handle(ctx context.Context, in bot.Inbound) error
	PersonID(in bot.Inbound) string
}

// Store is what the channel needs of the store: the stop mark and the
// aggregate counters.
type Store interface {
	Standing(ctx context.Context, pid string) (stopped, session bool, err error)
	SetStopped(ctx context.Context, pid string, stopped bool) error
	Count(ctx context.Context, part int, name string, now time.Time) error
	Partitions() int
	// FirstSeen reports whether a mark is new in a partition's marks of
	// things seen.
	FirstSeen(ctx context.Context, part int, mark string, now time.Time) (bool, error)
}

// Words are the locales' messages the channel reads: the STOP and START
// keywords and the neutral first reply.
type Words interface {
	Languages() []string
	Has(lang, id string) bool
	Text(lang, id string, vars map[string]string, count *int) (string, bool)
	Match(hints ...string) (string, bool)
}

// Options configure the channel.
type Options struct {
	// AccountSID and AuthToken are the Twilio account's credentials: the
	// token signs the webhooks, and both authenticate the REST calls.
	AccountSID, AuthToken string
	// PublicURL is where Twilio reaches this server: scheme, host and any
	// path prefix a proxy removes. Webhook signatures are checked against
	// it, never against the request's Host.
	PublicURL string
	// MessagingServiceSID is the Messaging Service that sends the replies;
	// From is the number that sends them when there is no service.
	MessagingServiceSID, From string
	// WhatsAppFrom is the WhatsApp sender ("whatsapp:+..."). Without it a
	// WhatsApp reply goes through the Messaging Service, or from
	// "whatsapp:" and From.
	WhatsAppFrom string
	// APIURL is the REST API's base URL. Default DefaultAPIURL.
	APIURL string
	// Transport carries the REST calls. Default http.DefaultTransport.
	Transport http.RoundTripper
	// Timeout bounds one REST call. Default 10s.
	Timeout time.Duration
	// Rate is how many messages a second each channel (SMS, WhatsApp)
	// sends at most. Default 10.
	Rate float64
	// Neutral makes the first reply to a person a neutral greeting (the
	// message sms.neutral) with the reply's numbered choices, so that a
	// lock-screen preview names no helpline. Urgent replies are sent as
	// they are.
	Neutral bool
	// Urgent reports a reply that must never be made neutral: the guidance
	// that answers danger words. Nil means none is.
	Urgent func(bot.Reply) bool
	// EraseCommand is a message that makes the conversation erase the
	// person, such as "/erase": STOP hands it to the dispatcher.
	EraseCommand string
	// Normalize folds a message for keyword matching as the conversation
	// engine does.
	Normalize func(string) string
}

// validCredential is what twilio-go accepts as an account SID or a token;
// it refuses anything else on every call.
var validCredential = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// Channel is the SMS and WhatsApp channel: its webhooks and its sender.
type Channel struct {
	d         Dispatcher
	store     Store
	words     Words
	log       *slog.Logger
	opts      Options
	validator client.RequestValidator
	keywords  *keywords
	rest      *rest
	statusURL string
	limits    map[bot.Channel]*rate.Limiter
	hold      *hold // messages not handed on yet
}

// New makes the channel. It does no I/O. Run hands on the messages the
// webhook could not.
func New(d Dispatcher, st Store, words Words, log *slog.Logger, opts Options) (*Channel, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	base, err := url.Parse(opts.APIURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, errors.New("twilio: the API URL must be absolute, such as https://api.twilio.com")
	}
	c := &Channel{
		d: d, store: st, words: words, log: log, opts: opts,
		validator: client.NewRequestValidator(opts.AuthToken),
		keywords:  newKeywords(words, opts.Normalize),
		rest:      &rest{accountSID: opts.AccountSID, authToken: opts.AuthToken, base: base, transport: opts.Transport, timeout: opts.Timeout},
		statusURL: opts.PublicURL + statusPath,
		limits:    map[bot.Channel]*rate.Limiter{},
		hold:      newHold(),
	}
	for _, ch := range []bot.Channel{bot.SMS, bot.WhatsApp} {
		c.limits[ch] = rate.NewLimiter(rate.Limit(opts.Rate), 1)
	}
	return c, nil
}

func (o *Options) defaults() error {
	switch {
	case o.AccountSID == "" || o.AuthToken == "":
		return errors.New("twilio: the account SID and the auth token are both needed")
	case !validCredential.MatchString(o.AccountSID) || !validCredential.MatchString(o.AuthToken):
		return errors.New("twilio: the account SID and the auth token are letters and digits only")
	case o.From == "" && o.MessagingServiceSID == "":
		return errors.New("twilio: a sender is needed: a Messaging Service SID or a From number")
	case o.EraseCommand == "" || o.Normalize == nil:
		return errors.New("twilio: the erase command and the keyword normaliser are needed")
	}
	u, err := url.Parse(o.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("twilio: the public URL must be absolute, such as https://helpline.example.org, without a query")
	}
	o.PublicURL = strings.TrimSuffix(o.PublicURL, "/")
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Rate <= 0 {
		o.Rate = 10
	}
	return nil
}

// The webhook paths, under the public URL.
const (
	inboundPath = "/twilio/sms"
	statusPath  = "/twilio/status"
)

// Routes adds the webhooks to mux: the number's (or Messaging Service's)
// incoming-message webhook is PublicURL/twilio/sms, and status callbacks
// come to PublicURL/twilio/status.
func (c *Channel) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+inboundPath, c.inbound)
	mux.HandleFunc("POST "+statusPath, c.status)
}

// count adds one to an aggregate counter. key spreads the counters over the
// partitions; it is never stored.
func (c *Channel) count(ctx context.Context, key, name string) {
	if err := c.store.Count(ctx, c.partOf(key), name, time.Now()); err != nil {
		c.log.Warn("count failed", "counter", name, "err", err)
	}
}

// partOf spreads keys over the partitions.
func (c *Channel) partOf(key string) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(max(1, c.store.Partitions())))
}
