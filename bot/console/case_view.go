package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/helpline/helpline/bot"
)

// canned is a canned answer: its English label and its text in the
// person's language.
type canned struct {
	Label string
	Text  string
}

type caseData struct {
	bot.CaseView
	Card   [][2]string
	Canned []canned
	WrapUp []string
	// ReplyID makes a reply idempotent: a form sent twice sends once.
	ReplyID string
}

// caseView is a case: the intake card with its risk flags, the transcript,
// the reply box with canned answers, transfer and end.
func (c *Console) caseView(w http.ResponseWriter, r *http.Request, u *user) {
	v, ok := c.view(w, r, u)
	if !ok {
		return
	}
	d := caseData{CaseView: v, Canned: c.canned(v.Lang), WrapUp: c.opts.WrapUp, ReplyID: randomToken()[:16]}
	keys := make([]string, 0, len(v.Card))
	for k := range v.Card {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d.Card = append(d.Card, [2]string{strings.ReplaceAll(k, "_", " "), v.Card[k]})
	}
	c.render(w, http.StatusOK, "case", "", page{Title: v.Code, User: u, CSRF: u.CSRF, Msg: messages[r.URL.Query().Get("msg")], Data: d})
}

// caseLines is the transcript alone, for the page's live update.
func (c *Console) caseLines(w http.ResponseWriter, r *http.Request, u *user) {
	v, ok := c.view(w, r, u)
	if !ok {
		return
	}
	c.render(w, http.StatusOK, "case", "lines", page{User: u, Data: caseData{CaseView: v}})
}

// view reads the case of the request for u; it answers the request itself
// when u may not see it.
func (c *Console) view(w http.ResponseWriter, r *http.Request, u *user) (bot.CaseView, bool) {
	v, err := c.desk.View(r.Context(), u.Counsellor, r.PathValue("code"))
	switch {
	case errors.Is(err, bot.ErrNotYours):
		http.Error(w, "another counsellor holds this case", http.StatusForbidden)
		return v, false
	case errors.Is(err, bot.ErrNoCase):
		http.Error(w, "no such case", http.StatusNotFound)
		return v, false
	case err != nil:
		c.fail(w, err)
		return v, false
	}
	return v, true
}

// canned lists the canned answers of the locales in lang.
func (c *Console) canned(lang string) []canned {
	var out []canned
	for _, id := range c.words.IDs("en") {
		if !strings.HasPrefix(id, "canned.") {
			continue
		}
		label, _ := c.words.Text("en", id, nil, nil)
		text, _ := c.words.Text(lang, id, nil, nil)
		out = append(out, canned{Label: label, Text: text})
	}
	return out
}

func (c *Console) caseClaim(w http.ResponseWriter, r *http.Request, u *user) {
	code := r.PathValue("code")
	if err := c.desk.Claim(r.Context(), u.Counsellor, code); err != nil {
		c.back(w, r, "/console/", err)
		return
	}
	http.Redirect(w, r, "/console/case/"+url.PathEscape(code), http.StatusSeeOther)
}

func (c *Console) caseReply(w http.ResponseWriter, r *http.Request, u *user) {
	code := r.PathValue("code")
	text := strings.TrimSpace(r.PostFormValue("text"))
	id := r.PostFormValue("id")
	if text == "" || len(text) > 4000 || id == "" || len(id) > 64 {
		http.Error(w, "write a message of up to 4000 characters", http.StatusBadRequest)
		return
	}
	if err := c.desk.Reply(r.Context(), u.Counsellor, code, text, id); err != nil {
		c.back(w, r, "/console/case/"+url.PathEscape(code), err)
		return
	}
	http.Redirect(w, r, "/console/case/"+url.PathEscape(code)+"#reply", http.StatusSeeOther)
}

func (c *Console) caseTransfer(w http.ResponseWriter, r *http.Request, u *user) {
	code := r.PathValue("code")
	var to *bot.Counsellor
	if name := strings.TrimSpace(r.PostFormValue("to")); name != "" {
		a, err := c.st.GetAccount(r.Context(), name)
		if err != nil || a.Disabled {
			http.Error(w, "no such counsellor", http.StatusBadRequest)
			return
		}
		t := counsellorOf(a)
		to = &t
	}
	if err := c.desk.Transfer(r.Context(), u.Counsellor, code, to); err != nil && !errors.Is(err, bot.ErrCaseGone) {
		c.back(w, r, "/console/case/"+url.PathEscape(code), err)
		return
	}
	http.Redirect(w, r, "/console/?msg=moved", http.StatusSeeOther)
}

func (c *Console) caseEnd(w http.ResponseWriter, r *http.Request, u *user) {
	code := r.PathValue("code")
	wrap := r.PostFormValue("wrap")
	if !slices.Contains(c.opts.WrapUp, wrap) {
		http.Error(w, "choose a wrap-up category", http.StatusBadRequest)
		return
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	if len(note) > 2000 {
		http.Error(w, "the note is too long", http.StatusBadRequest)
		return
	}
	if err := c.desk.End(r.Context(), u.Counsellor, code, wrap, note); err != nil {
		c.back(w, r, "/console/case/"+url.PathEscape(code), err)
		return
	}
	http.Redirect(w, r, "/console/?msg=ended", http.StatusSeeOther)
}

// back redirects to where the counsellor was, with a note on why the
// action did not happen; an unexpected error is a failure.
func (c *Console) back(w http.ResponseWriter, r *http.Request, to string, err error) {
	msg := ""
	switch {
	case errors.Is(err, bot.ErrTaken), errors.Is(err, bot.ErrNoCase):
		msg = "taken"
	case errors.Is(err, bot.ErrFull):
		msg = "full"
	case errors.Is(err, bot.ErrLanguage):
		msg = "language"
	case errors.Is(err, bot.ErrNotYours):
		http.Error(w, messages["notyours"], http.StatusForbidden)
		return
	case errors.Is(err, bot.ErrCaseGone):
		msg, to = "gone", "/console/"
	default:
		c.fail(w, err)
		return
	}
	http.Redirect(w, r, to+"?msg="+msg, http.StatusSeeOther)
}
