package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/helpline/helpline/bot"
)

// DefaultAPIURL is Twilio's REST API.
const DefaultAPIURL = "https://api.twilio.com"

// Error is a failed call to Twilio's REST API. It keeps the HTTP status and
// Twilio's error code only: twilio-go's own errors may quote the request,
// which holds a phone number and a message.
type Error struct {
	// Status is the HTTP status; 0 when no response came.
	Status int
	// Code is Twilio's error code (www.twilio.com/docs/api/errors); 0 when
	// the response had none.
	Code int
}

// Twilio error codes the sender acts on.
const (
	codeOptedOut    = 21610 // the person replied STOP: Twilio will not send to them
	codeInvalidTo   = 21211 // not a valid phone number
	codeNotMobile   = 21614 // not a mobile number: cannot receive SMS
	codeOutOfWindow = 63016 // WhatsApp: more than 24 hours since the person wrote
	codeTooMany     = 20429 // too many requests
)

func (e *Error) Error() string {
	if e.Status == 0 {
		return "twilio: no response"
	}
	return fmt.Sprintf("twilio: status %d, error %d", e.Status, e.Code)
}

// Permanent reports whether sending the same message again cannot help: the
// person opted out, the number cannot take messages, or Twilio refused the
// request as it is. A 429, a 5xx, a refused credential (which an operator
// can mend) and no response at all are worth retrying.
func (e *Error) Permanent() bool {
	switch e.Code {
	case codeOptedOut, codeInvalidTo, codeNotMobile, codeOutOfWindow:
		return true
	case codeTooMany:
		return false
	}
	switch {
	case e.Status == 0, e.Status == http.StatusTooManyRequests, e.Status == http.StatusUnauthorized, e.Status >= 500:
		return false
	}
	return e.Status >= 400
}

// Unwrap makes a permanent failure match bot.ErrPermanent.
func (e *Error) Unwrap() error {
	if e.Permanent() {
		return bot.ErrPermanent
	}
	return nil
}

// message is one message to send through the REST API.
type message struct {
	To, From, Service, Body, StatusCallback string
}

// rest sends messages through twilio-go. twilio-go has neither a base URL
// option nor a context, so every call gets its own small client whose
// transport sends to the configured API URL, under the caller's context,
// and notes the HTTP status and Retry-After of the response.
type rest struct {
	accountSID, authToken string
	base                  *url.URL
	transport             http.RoundTripper
	timeout               time.Duration
}

// create sends one message. Its error is an *Error, or a *bot.RetryAfter
// holding one, or the context's error.
func (r *rest) create(ctx context.Context, m message) error {
	rt := &call{ctx: ctx, base: r.base, next: r.transport}
	c := &client.Client{
		Credentials: client.NewCredentials(r.accountSID, r.authToken),
		HTTPClient: &http.Client{
			Transport:     rt,
			Timeout:       r.timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(r.accountSID)
	h := client.NewRequestHandler(c)
	h.Edge, h.Region = "", "" // set here, never from the environment
	p := &openapi.CreateMessageParams{}
	p.SetTo(m.To)
	p.SetBody(m.Body)
	if m.Service != "" {
		p.SetMessagingServiceSid(m.Service)
	} else {
		p.SetFrom(m.From)
	}
	if m.StatusCallback != "" {
		p.SetStatusCallback(m.StatusCallback)
	}
	_, err := openapi.NewApiService(h).CreateMessage(p)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if rt.status >= 200 && rt.status < 300 {
		return nil // accepted; only the answer was unreadable
	}
	return rt.failure(err)
}

// call is the transport of one REST call.
type call struct {
	ctx        context.Context
	base       *url.URL
	next       http.RoundTripper
	status     int
	retryAfter time.Duration
}

func (c *call) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(c.ctx)
	out.URL.Scheme, out.URL.Host = c.base.Scheme, c.base.Host
	out.URL.Path = strings.TrimSuffix(c.base.Path, "/") + req.URL.Path
	out.URL.RawPath = ""
	out.Host = ""
	resp, err := c.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	c.status = resp.StatusCode
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		c.retryAfter = time.Duration(s) * time.Second
	}
	return resp, nil
}

// failure turns what twilio-go returned into an error that holds no part of
// the request.
func (c *call) failure(err error) error {
	e := &Error{Status: c.status}
	var v0 *client.TwilioRestError
	var v1 *client.RestErrorV1
	switch {
	case errors.As(err, &v0):
		e.Code = v0.Code
		if e.Status == 0 {
			e.Status = v0.Status // twilio-go's own refusal, before any request
		}
	case errors.As(err, &v1):
		e.Code = v1.Code
	}
	if c.retryAfter > 0 && !e.Permanent() {
		return &bot.RetryAfter{Delay: c.retryAfter, Err: e}
	}
	return e
}
