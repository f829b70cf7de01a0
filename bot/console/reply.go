package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/helpline/helpline/bot"
)

// The console's forms work as plain forms, answered with a redirect; the
// page's script sends them with fetch and asks for JSON instead (Accept:
// application/json), so that the counsellor stays on the page.

// result is the JSON answer to a form sent with fetch.
type result struct {
	OK bool `json:"ok"`
	// Msg is a note for the counsellor, in their language.
	Msg string `json:"msg,omitempty"`
	// Go is where the page should go next, when it should.
	Go string `json:"go,omitempty"`
	// ReplyID is the id of the next reply, so that the form can be sent
	// again for a new message.
	ReplyID string `json:"reply_id,omitempty"`
}

// wantsJSON reports whether the request asks for a JSON answer.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// done answers a form that did what it asked: with res when asked for
// JSON, else with a redirect to res.Go, carrying the note msg.
func (c *Console) done(w http.ResponseWriter, r *http.Request, u *user, res result, msg string) {
	if wantsJSON(r) {
		res.OK = true
		if msg != "" {
			res.Msg = c.locFor(r, u).T("msg." + msg)
		}
		writeJSON(w, http.StatusOK, res)
		return
	}
	to := res.Go
	if msg != "" {
		to += "?msg=" + msg
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// refuse answers a request that cannot be done with status and the note
// id, in the counsellor's language: as JSON when asked, else as text.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request, u *user, status int, id string) {
	msg := c.locFor(r, u).T(id)
	if wantsJSON(r) {
		writeJSON(w, status, result{Msg: msg})
		return
	}
	http.Error(w, msg, status)
}

// back answers an action that did not happen: a redirect to where the
// counsellor was with a note on why (or the note as JSON); an unexpected
// error is a failure.
func (c *Console) back(w http.ResponseWriter, r *http.Request, u *user, to string, err error) {
	msg := ""
	switch {
	case errors.Is(err, bot.ErrTaken), errors.Is(err, bot.ErrNoCase):
		msg = "taken"
	case errors.Is(err, bot.ErrFull):
		msg = "full"
	case errors.Is(err, bot.ErrLanguage):
		msg = "language"
	case errors.Is(err, bot.ErrNotYours):
		c.refuse(w, r, u, http.StatusForbidden, "msg.notyours")
		return
	case errors.Is(err, bot.ErrCaseGone):
		msg, to = "gone", "/console/"
	default:
		c.fail(w, r, u, err)
		return
	}
	if wantsJSON(r) {
		c.refuse(w, r, u, http.StatusConflict, "msg."+msg)
		return
	}
	http.Redirect(w, r, to+"?msg="+msg, http.StatusSeeOther)
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, u *user, err error) {
	c.log.Error("console request failed", "err", err)
	c.refuse(w, r, u, http.StatusInternalServerError, "console.error")
}
