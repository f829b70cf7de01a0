package console

import (
	"net/http"
	"sort"
	"time"
)

// activeList shows every held case, for supervisors.
func (c *Console) activeList(w http.ResponseWriter, r *http.Request, u *user) {
	active, err := c.st.Active(r.Context())
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	sort.Slice(active, func(i, j int) bool { return active[i].Claimed.Before(active[j].Claimed) })
	c.render(w, r, http.StatusOK, "cases", "", page{Title: c.locFor(r, u).T("console.active"), User: u, CSRF: u.CSRF, Data: caseRows(active)})
}

type onlineRow struct {
	Name string
	Seen time.Time
	Held int
}

// onlineList shows who was seen in the last two minutes, and how many
// cases each holds.
func (c *Console) onlineList(w http.ResponseWriter, r *http.Request, u *user) {
	seen, err := c.st.Online(r.Context(), c.now().Add(-2*time.Minute))
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	rows := make([]onlineRow, 0, len(seen))
	for name, t := range seen {
		held, err := c.st.HeldBy(r.Context(), name)
		if err != nil {
			c.fail(w, r, u, err)
			return
		}
		rows = append(rows, onlineRow{Name: name, Seen: t, Held: len(held)})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	c.render(w, r, http.StatusOK, "online", "", page{Title: c.locFor(r, u).T("online.title"), User: u, CSRF: u.CSRF, Data: rows})
}
