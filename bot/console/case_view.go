package console

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/helpline/helpline/bot/lang"

	"github.com/helpline/helpline/bot"
)

// canned is a canned answer: its text in the person's language, and the
// English beside it when that differs.
type canned struct {
	Text    string
	English string
}

// cardRow is one answer of the intake card, labelled in the counsellor's
// language.
type cardRow struct {
	Label, Value string
}

// option is a choice of a select: its value and its label.
type option struct {
	Value, Label string
}

type caseData struct {
	bot.CaseView
	// Card are the answers chosen from the flow's choices, Words the ones
	// the person typed, each in the flows' order.
	Card, Words []cardRow
	Canned      []canned
	WrapUp      []option
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
	l := c.locFor(r, u)
	d := c.caseData(l, v)
	d.Canned, d.ReplyID = c.canned(v.Lang), randomToken()[:16]
	for _, wr := range c.opts.WrapUp {
		d.WrapUp = append(d.WrapUp, option{wr, l.Word("wrap", wr)})
	}
	c.render(w, r, http.StatusOK, "case", "", page{Title: l.T("case.title", "code", v.Code), User: u, CSRF: u.CSRF, Msg: note(r), Data: d})
}

// casePreview is a waiting case before it is claimed: the card, the
// priority, the risks and the waiting time, never the conversation.
func (c *Console) casePreview(w http.ResponseWriter, r *http.Request, u *user) {
	v, err := c.desk.Preview(r.Context(), u.Counsellor, r.PathValue("code"))
	switch {
	case errors.Is(err, bot.ErrNoCase), errors.Is(err, bot.ErrTaken):
		http.Redirect(w, r, "/console/?msg=taken", http.StatusSeeOther)
		return
	case errors.Is(err, bot.ErrLanguage):
		http.Redirect(w, r, "/console/?msg=language", http.StatusSeeOther)
		return
	case err != nil:
		c.fail(w, r, u, err)
		return
	}
	l := c.locFor(r, u)
	c.render(w, r, http.StatusOK, "preview", "", page{Title: l.T("case.preview", "code", v.Code), User: u, CSRF: u.CSRF, Data: c.caseData(l, v)})
}

// caseData lays out v's card for the counsellor: the answers in the
// flows' order, each label and chosen answer in the counsellor's language,
// the person's own words apart.
func (c *Console) caseData(l loc, v bot.CaseView) caseData {
	d := caseData{CaseView: v}
	done := map[string]bool{}
	add := func(name string, free bool) {
		val, ok := v.Card[name]
		if !ok || done[name] {
			return
		}
		done[name] = true
		row := cardRow{Label: l.Word("field", name), Value: l.Value(val)}
		switch {
		case free:
			row.Value = val
			d.Words = append(d.Words, row)
			return
		case name == "country":
			row.Value = regionName(l.Lang, val)
		}
		d.Card = append(d.Card, row)
	}
	for _, f := range c.opts.Fields {
		add(f.Var, f.Free)
	}
	rest := make([]string, 0, len(v.Card))
	for k := range v.Card {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range rest {
		add(k, false)
	}
	return d
}

// regionName names a country code in the counsellor's language.
func regionName(locale, code string) string {
	reg, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	if n := display.Regions(lang.Tag(locale)).Name(reg); n != "" {
		return n
	}
	return code
}

// linesAnswer is the transcript as the page's script fetches it.
type linesAnswer struct {
	HTML string `json:"html"`
	// Left says, in the counsellor's language, why the person is no
	// longer in the case; empty while they are.
	Left  string `json:"left,omitempty"`
	State string `json:"state"`
	Mine  bool   `json:"mine"`
}

// caseLines is the transcript alone, for the page's live update: HTML, or
// JSON with the case's state when asked.
func (c *Console) caseLines(w http.ResponseWriter, r *http.Request, u *user) {
	v, err := c.desk.View(r.Context(), u.Counsellor, r.PathValue("code"))
	if wantsJSON(r) && errors.Is(err, bot.ErrNoCase) {
		// The person asked to be forgotten: the record went at once.
		writeJSON(w, http.StatusOK, linesAnswer{Left: c.locFor(r, u).T("left." + bot.LeftErased), State: string(bot.Closed)})
		return
	}
	if !c.viewed(w, r, u, err) {
		return
	}
	p := page{User: u, Data: caseData{CaseView: v}, L: c.locFor(r, u)}
	if !wantsJSON(r) {
		c.render(w, r, http.StatusOK, "case", "lines", p)
		return
	}
	var b bytes.Buffer
	if err := c.pages["case"].ExecuteTemplate(&b, "lines", p); err != nil {
		c.fail(w, r, u, err)
		return
	}
	a := linesAnswer{HTML: b.String(), State: string(v.State), Mine: v.Mine}
	if v.Left != "" {
		a.Left = p.L.T("left." + v.Left)
	}
	writeJSON(w, http.StatusOK, a)
}

// view reads the case of the request for u; it answers the request itself
// when u may not see it.
func (c *Console) view(w http.ResponseWriter, r *http.Request, u *user) (bot.CaseView, bool) {
	v, err := c.desk.View(r.Context(), u.Counsellor, r.PathValue("code"))
	return v, c.viewed(w, r, u, err)
}

// viewed answers the request when the view failed with err.
func (c *Console) viewed(w http.ResponseWriter, r *http.Request, u *user, err error) bool {
	switch {
	case errors.Is(err, bot.ErrNotYours):
		c.refuse(w, r, u, http.StatusForbidden, "msg.notyours")
	case errors.Is(err, bot.ErrNoCase):
		c.refuse(w, r, u, http.StatusNotFound, "msg.gone")
	case err != nil:
		c.fail(w, r, u, err)
	default:
		return true
	}
	return false
}

// canned lists the canned answers of the locales, whole, in lang and in
// English.
func (c *Console) canned(lang string) []canned {
	var out []canned
	for _, id := range c.words.IDs("en") {
		if !strings.HasPrefix(id, "canned.") {
			continue
		}
		en, _ := c.words.Text("en", id, nil, nil)
		text, _ := c.words.Text(lang, id, nil, nil)
		a := canned{Text: text}
		if text != en {
			a.English = en
		}
		out = append(out, a)
	}
	return out
}

func caseURL(code string) string { return "/console/case/" + url.PathEscape(code) }

func (c *Console) caseClaim(w http.ResponseWriter, r *http.Request, u *user) {
	code := r.PathValue("code")
	if err := c.desk.Claim(r.Context(), u.Counsellor, code); err != nil {
		c.back(w, r, u, "/console/", err)
		return
	}
	c.done(w, r, u, result{Go: caseURL(code)}, "")
}

func (c *Console) caseReply(w http.ResponseWriter, r *http.Request, u *user) {
	code := r.PathValue("code")
	text := strings.TrimSpace(r.PostFormValue("text"))
	id := r.PostFormValue("id")
	if text == "" || len(text) > 4000 || id == "" || len(id) > 64 {
		c.refuse(w, r, u, http.StatusBadRequest, "msg.empty")
		return
	}
	if err := c.desk.Reply(r.Context(), u.Counsellor, code, text, id); err != nil {
		c.back(w, r, u, caseURL(code), err)
		return
	}
	c.done(w, r, u, result{Go: caseURL(code) + "#reply", ReplyID: randomToken()[:16]}, "")
}

func (c *Console) caseTransfer(w http.ResponseWriter, r *http.Request, u *user) {
	code := r.PathValue("code")
	var to *bot.Counsellor
	if name := strings.TrimSpace(r.PostFormValue("to")); name != "" {
		a, err := c.st.GetAccount(r.Context(), name)
		if err != nil || a.Disabled {
			c.refuse(w, r, u, http.StatusBadRequest, "msg.nocounsellor")
			return
		}
		t := counsellorOf(a)
		to = &t
	}
	if err := c.desk.Transfer(r.Context(), u.Counsellor, code, to); err != nil && !errors.Is(err, bot.ErrCaseGone) {
		c.back(w, r, u, caseURL(code), err)
		return
	}
	c.done(w, r, u, result{Go: "/console/"}, "moved")
}

func (c *Console) caseEnd(w http.ResponseWriter, r *http.Request, u *user) {
	code := r.PathValue("code")
	wrap := r.PostFormValue("wrap")
	if !slices.Contains(c.opts.WrapUp, wrap) {
		c.refuse(w, r, u, http.StatusBadRequest, "msg.wrap")
		return
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	if len(note) > 2000 {
		c.refuse(w, r, u, http.StatusBadRequest, "msg.long")
		return
	}
	if err := c.desk.End(r.Context(), u.Counsellor, code, wrap, note); err != nil {
		c.back(w, r, u, caseURL(code), err)
		return
	}
	c.done(w, r, u, result{Go: "/console/"}, "ended")
}
