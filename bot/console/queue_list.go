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
		c.fail(w, err)
		return
	}
	c.render(w, http.StatusOK, "queue", "", page{Title: "Queue", User: u, CSRF: u.CSRF, Msg: messages[r.URL.Query().Get("msg")], Data: d})
}

// queueRows is the queue's rows alone, for the page's live update.
func (c *Console) queueRows(w http.ResponseWriter, r *http.Request, u *user) {
	d, err := c.queue(r, u)
	if err != nil {
		c.fail(w, err)
		return
	}
	c.render(w, http.StatusOK, "queue", "rows", page{User: u, CSRF: u.CSRF, Data: d})
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
		c.fail(w, err)
		return
	}
	c.render(w, http.StatusOK, "cases", "", page{Title: "My cases", User: u, CSRF: u.CSRF, Data: caseRows(held)})
}

func (c *Console) fail(w http.ResponseWriter, err error) {
	c.log.Error("console request failed", "err", err)
	http.Error(w, "something went wrong: try again", http.StatusInternalServerError)
}
