package console

import (
	"net/http"

	"github.com/helpline/helpline/bot/store"
)

// queueRow is one waiting case as a counsellor sees it in the queue.
type queueRow struct {
	store.QueueCase
	// Interpreter is true when the case is offered without a shared
	// language.
	Interpreter bool
}

type queueData struct {
	Rows []queueRow
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
			d.Rows = append(d.Rows, queueRow{QueueCase: qc, Interpreter: interp})
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
	c.render(w, http.StatusOK, "cases", "", page{Title: "My cases", User: u, CSRF: u.CSRF, Data: held})
}

func (c *Console) fail(w http.ResponseWriter, err error) {
	c.log.Error("console request failed", "err", err)
	http.Error(w, "something went wrong: try again", http.StatusInternalServerError)
}
