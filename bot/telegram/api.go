package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// DefaultAPIURL is the public Bot API.
const DefaultAPIURL = "https://api.telegram.org"

// maxAnswer bounds a Bot API answer we read: a full getUpdates batch.
const maxAnswer = 16 << 20

// callTimeout bounds a Bot API call that has no deadline of its own.
const callTimeout = 30 * time.Second

// Error is a Bot API call that failed. It keeps the method and the status
// only, never the chat, the text or Telegram's description of the failure,
// which may quote them: it is safe to log.
type Error struct {
	Method string
	// Status is the Bot API's error code (the HTTP status); 0 when no
	// readable answer came.
	Status int
	// RetryAfter is the delay Telegram asked for with a 429.
	RetryAfter time.Duration
	// Unchanged is a 400 that says an edit would leave the message as it
	// is: the edit was made before.
	Unchanged bool
	// cause is a context's error when the call was cut short; nil
	// otherwise, so that no URL (it holds the token) is ever kept.
	cause error
}

func (e *Error) Error() string {
	switch {
	case e.Status != 0:
		return fmt.Sprintf("telegram %s: status %d", e.Method, e.Status)
	case e.cause != nil:
		return fmt.Sprintf("telegram %s: %v", e.Method, e.cause)
	}
	return fmt.Sprintf("telegram %s: no readable answer", e.Method)
}

// Unwrap returns the context error that cut the call short, if any.
func (e *Error) Unwrap() error { return e.cause }

// apiError turns whatever a call returned into an *Error of method. The
// library's own errors quote the answer, so they are never passed on.
func apiError(method string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Method: method, cause: contextCause(err)}
}

func contextCause(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	}
	return nil
}

// client is the HTTP client the library calls through. It reads every
// answer first and turns a failed one into an *Error, so the library never
// builds an error from the answer's text.
type client struct{ hc *http.Client }

func (c client) Do(req *http.Request) (*http.Response, error) {
	return c.exchange(req, nil)
}

// answer is a Bot API answer; Result is decoded into what it points to.
type answer struct {
	OK          bool   `json:"ok"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
	Result any `json:"result"`
}

// notModified begins the description of a 400 that answers an edit which
// would change nothing. Only this is read of a description, which may hold
// a chat's details and is never kept.
const notModified = "Bad Request: message is not modified"

// skipped is a JSON value that is read past and not kept.
// okAnswer is how the Bot API's answer to a call that succeeded begins.
var okAnswer = []byte(`{"ok":true,`)

type skipped struct{}

func (*skipped) UnmarshalJSON([]byte) error { return nil }

// exchange makes one call and returns the answer, read whole, once it is
// known to be a success; result, when not nil, points to where the answer's
// result is decoded.
func (c client) exchange(req *http.Request, result any) (*http.Response, error) {
	method := path.Base(req.URL.Path)
	if _, ok := req.Context().Deadline(); !ok {
		// A call that hangs would hold up every reply behind it. The answer
		// is read whole below, so the deadline can end with this call.
		ctx, cancel := context.WithTimeout(req.Context(), callTimeout)
		defer cancel()
		req = req.WithContext(ctx)
	}
	if req.Body != nil && req.ContentLength <= 0 {
		// The library streams its form through a pipe, which goes out as
		// many small chunks: one write each. Sent whole, it is one.
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, &Error{Method: method, cause: contextCause(err)}
		}
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, &Error{Method: method, cause: contextCause(err)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	if err != nil {
		return nil, &Error{Method: method, Status: resp.StatusCode, cause: contextCause(err)}
	}
	if result == nil {
		if bytes.HasPrefix(body, okAnswer) && resp.StatusCode == http.StatusOK {
			// A success whose result is not needed (an edit, the answer
			// to a tap): the Bot API writes "ok" first, so the rest, an
			// edited message with its keyboard, need not be read.
			resp.Body = io.NopCloser(bytes.NewReader(body))
			return resp, nil
		}
		result = &skipped{}
	}
	// A result that does not decode still counts as a success when the
	// answer says ok: the call happened (a message was sent), and calling
	// again would repeat it. The result is left as it is.
	a := answer{Result: result}
	_ = json.Unmarshal(body, &a)
	if !a.OK {
		e := &Error{
			Method: method, Status: a.ErrorCode, RetryAfter: time.Duration(a.Parameters.RetryAfter) * time.Second,
			Unchanged: strings.HasPrefix(a.Description, notModified),
		}
		if e.Status == 0 && resp.StatusCode != http.StatusOK {
			e.Status = resp.StatusCode
		}
		return nil, e
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// API makes the Bot API calls the helpline needs. Every error it returns is
// an *Error.
//
// The calls each reply makes (sendMessage, editMessageText,
// answerCallbackQuery, deleteMessages) and getUpdates go out as JSON, which
// the Bot API takes as well as forms, with go-telegram/bot's own parameter
// types. go-telegram/bot sends every call as a multipart form that it builds
// by reflection in a goroutine of its own, through a pipe: under the load
// driver that was a tenth of the helpline's CPU per update. The other calls
// go through the library.
type API struct {
	b    *tg.Bot
	hc   client
	base string // the URL that method names are appended to; it holds the token
}

// NewAPI makes an API for the bot token at the Bot API server baseURL
// (DefaultAPIURL, a self-hosted server, or a test fake). It does no I/O.
func NewAPI(token, baseURL string, hc *http.Client) (*API, error) {
	if baseURL == "" {
		baseURL = DefaultAPIURL
	}
	baseURL = strings.TrimRight(baseURL, "/")
	c := client{hc: hc}
	b, err := tg.New(token,
		tg.WithServerURL(baseURL),
		tg.WithSkipGetMe(),
		tg.WithHTTPClient(time.Minute, c),
		tg.WithErrorsHandler(func(error) {}), // its errors quote requests; ours are returned
		tg.WithDefaultHandler(func(context.Context, *tg.Bot, *models.Update) {}),
	)
	if err != nil {
		return nil, errors.New("telegram: the bot token is empty")
	}
	return &API{b: b, hc: c, base: baseURL + "/bot" + token + "/"}, nil
}

// NewHTTPClient returns an HTTP client fit for the Bot API: connections are
// kept for reuse by the senders working at once.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t}
}

// Me returns the bot's own user: a readiness check.
func (a *API) Me(ctx context.Context) (*models.User, error) {
	u, err := a.b.GetMe(ctx)
	return u, apiError("getMe", err)
}

// SendText sends text to a chat with an optional inline keyboard and
// returns the new message's ID.
func (a *API) SendText(ctx context.Context, chat int64, text string, kb *models.InlineKeyboardMarkup) (int, error) {
	p := &tg.SendMessageParams{ChatID: chat, Text: text}
	if kb != nil {
		p.ReplyMarkup = kb
	}
	var m struct {
		ID int `json:"message_id"`
	}
	if err := a.call(ctx, "sendMessage", p, &m); err != nil {
		return 0, err
	}
	return m.ID, nil
}

// EditText replaces the text of a message the bot sent, and its inline
// keyboard with kb (none when nil).
func (a *API) EditText(ctx context.Context, chat int64, msg int, text string, kb *models.InlineKeyboardMarkup) error {
	p := &tg.EditMessageTextParams{ChatID: chat, MessageID: msg, Text: text}
	if kb != nil {
		p.ReplyMarkup = kb
	}
	return a.call(ctx, "editMessageText", p, nil)
}

// DeleteMessages deletes up to 100 messages of a chat; Telegram skips the
// ones it cannot find.
func (a *API) DeleteMessages(ctx context.Context, chat int64, ids []int) error {
	return a.call(ctx, "deleteMessages", &tg.DeleteMessagesParams{ChatID: chat, MessageIDs: ids}, nil)
}

// AnswerCallback stops the spinner on a tapped button.
func (a *API) AnswerCallback(ctx context.Context, id string) error {
	return a.call(ctx, "answerCallbackQuery", &tg.AnswerCallbackQueryParams{CallbackQueryID: id}, nil)
}

// SetCommands sets the command menu shown to people whose Telegram is in
// language lang ("" for everyone else).
func (a *API) SetCommands(ctx context.Context, lang string, cmds []models.BotCommand) error {
	_, err := a.b.SetMyCommands(ctx, &tg.SetMyCommandsParams{Commands: cmds, LanguageCode: lang})
	return apiError("setMyCommands", err)
}

// SetWebhook registers url as the bot's webhook.
func (a *API) SetWebhook(ctx context.Context, url, secret string, maxConnections int) error {
	_, err := a.b.SetWebhook(ctx, &tg.SetWebhookParams{
		URL: url, SecretToken: secret, MaxConnections: maxConnections, AllowedUpdates: AllowedUpdates,
	})
	return apiError("setWebhook", err)
}

// DeleteWebhook removes the bot's webhook, keeping pending updates for
// getUpdates.
func (a *API) DeleteWebhook(ctx context.Context) error {
	_, err := a.b.DeleteWebhook(ctx, &tg.DeleteWebhookParams{})
	return apiError("deleteWebhook", err)
}

// WebhookInfo returns the webhook's state as Telegram sees it.
func (a *API) WebhookInfo(ctx context.Context) (*models.WebhookInfo, error) {
	info, err := a.b.GetWebhookInfo(ctx)
	return info, apiError("getWebhookInfo", err)
}

// updates long-polls for the updates from offset on, waiting up to wait.
// The library keeps getUpdates to itself, and moves its offset before the
// updates are handled: this call leaves the offset to the caller.
func (a *API) updates(ctx context.Context, offset int64, wait time.Duration) ([]json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, wait+30*time.Second)
	defer cancel()
	params := map[string]any{"offset": offset, "timeout": int(wait / time.Second), "allowed_updates": AllowedUpdates}
	var raws []json.RawMessage
	if err := a.call(ctx, "getUpdates", params, &raws); err != nil {
		return nil, err
	}
	if raws == nil {
		// ok, but no list of updates: an error, so that polling backs off
		// instead of asking again at once.
		return nil, &Error{Method: "getUpdates"}
	}
	return raws, nil
}

// call makes a Bot API call with params as a JSON body and decodes the
// answer's result into result, unless it is nil.
func (a *API) call(ctx context.Context, method string, params, result any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return &Error{Method: method}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+method, bytes.NewReader(body))
	if err != nil {
		return &Error{Method: method, cause: contextCause(err)}
	}
	req.Header.Set("Content-Type", "application/json")
	_, err = a.hc.exchange(req, result)
	return err
}

// AllowedUpdates are the kinds of update the helpline asks for. Edited
// messages are not among them: the bot answered the original.
var AllowedUpdates = []string{"message", "callback_query", "my_chat_member"}
