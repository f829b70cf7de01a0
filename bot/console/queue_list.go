package console

import (
	"net/http"

	"github.com/helpline/helpline/bot"
)

// caseRow is one case as a counsellor sees it in a list: the queue, their
// own cases, every active case.
type caseRow struct {
	bot.Case
	// Interpreter is true when a waiting case is offered without a shared
	// language.
	Interpreter bool
}

// caseRows are the rows of a list of cases.
func caseRows(cs []bot.Case) []caseRow {
	rows := make([]caseRow, len(cs))
	for i, c := range cs {
		rows[i] = caseRow{Case: c}
	}
	return rows
}

type queueData struct {
	Rows []caseRow
	Held int
}

// queueList is the live queue: the waiting cases this counsellor may take,
// urgent first, then by waiting time.
func (c *Console) queueList(w http.ResponseWriter, r *http.Request, u *user) {
	d, err := c.queue(r, u)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	c.render(w, r, http.StatusOK, "queue", "", page{Title: c.locFor(r, u).T("queue.title"), User: u, CSRF: u.CSRF, Msg: note(r), Data: d})
}

// waitingCase is a waiting case as the page's alerts see it: its code and
// whether it is urgent, nothing more.
type waitingCase struct {
	Code   string `json:"code"`
	Urgent bool   `json:"urgent"`
}

// queueRows is the queue's rows alone, for the page's live update; asked
// for JSON, the codes of the waiting cases, for the alerts of every page.
func (c *Console) queueRows(w http.ResponseWriter, r *http.Request, u *user) {
	d, err := c.queue(r, u)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	if wantsJSON(r) {
		out := make([]waitingCase, len(d.Rows))
		for i, row := range d.Rows {
			out[i] = waitingCase{Code: row.Code, Urgent: row.Priority == bot.Urgent}
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	c.render(w, r, http.StatusOK, "queue", "rows", page{User: u, CSRF: u.CSRF, Data: d})
}

func (c *Console) queue(r *http.Request, u *user) (queueData, error) {
	ws, err := c.st.Waiting(r.Context())
	if err != nil {
		return queueData{}, err
	}
	held, err := c.st.HeldBy(r.Context(), u.Name)
	if err != nil {
		return queueData{}, err
	}
	d := queueData{Held: len(held)}
	now := c.now()
	for _, qc := range ws {
		ok, interp := c.desk.CanSee(u.Counsellor, qc, now)
		if ok || u.Supervisor {
			d.Rows = append(d.Rows, caseRow{Case: qc, Interpreter: interp})
		}
	}
	return d, nil
}

// myCases lists the cases this counsellor holds.
func (c *Console) myCases(w http.ResponseWriter, r *http.Request, u *user) {
	held, err := c.st.HeldBy(r.Context(), u.Name)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	c.render(w, r, http.StatusOK, "cases", "", page{Title: c.locFor(r, u).T("console.mine"), User: u, CSRF: u.CSRF, Data: caseRows(held)})
}
