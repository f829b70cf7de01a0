package console

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/helpline/helpline/bot/runner"
)

// activeList shows every held case, for supervisors.
func (c *Console) activeList(w http.ResponseWriter, r *http.Request, u *user) {
	active, err := c.st.Active(r.Context())
	if err != nil {
		c.fail(w, err)
		return
	}
	sort.Slice(active, func(i, j int) bool { return active[i].Claimed.Before(active[j].Claimed) })
	c.render(w, http.StatusOK, "cases", "", page{Title: "All active cases", User: u, CSRF: u.CSRF, Data: caseRows(active)})
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
		c.fail(w, err)
		return
	}
	rows := make([]onlineRow, 0, len(seen))
	for name, t := range seen {
		held, err := c.st.HeldBy(r.Context(), name)
		if err != nil {
			c.fail(w, err)
			return
		}
		rows = append(rows, onlineRow{Name: name, Seen: t, Held: len(held)})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	c.render(w, http.StatusOK, "online", "", page{Title: "Online", User: u, CSRF: u.CSRF, Data: rows})
}

// bar is one bar of a chart, its height a share of the tallest.
type bar struct {
	Label  string
	Value  int64
	Height int // 0 to 100
	X, Y   int
}

// tally is a count by name, for the tables.
type tally struct {
	Name  string
	Count int64
}

type statsData struct {
	Days  []bar
	Langs []tally
	Tops  []tally
	Wraps []tally
	Waits []tally
	Total int64
}

// statsDays is how many days the statistics page shows.
const statsDays = 14

// statsPage shows the aggregate counters of the last two weeks: cases per
// day as a chart, and by language, topic, wrap-up and waiting time. The
// counters hold no link to a person.
func (c *Console) statsPage(w http.ResponseWriter, r *http.Request, u *user) {
	var d statsData
	sums := map[string]int64{}
	today := c.now()
	var top int64 = 1
	for i := statsDays - 1; i >= 0; i-- {
		day := today.AddDate(0, 0, -i)
		m, err := c.st.Stats(r.Context(), day)
		if err != nil {
			c.fail(w, err)
			return
		}
		for k, v := range m {
			sums[k] += v
		}
		n := m["case.open"]
		top = max(top, n)
		d.Total += n
		d.Days = append(d.Days, bar{Label: day.Format("02.01"), Value: n})
	}
	for i := range d.Days {
		d.Days[i].Height = int(d.Days[i].Value * 100 / top)
		d.Days[i].X, d.Days[i].Y = i*30, 110-d.Days[i].Height
	}
	d.Langs, d.Tops, d.Wraps = prefixed(sums, "case.lang."), prefixed(sums, "case.topic."), prefixed(sums, "case.wrap.")
	for _, b := range runner.WaitBuckets {
		d.Waits = append(d.Waits, tally{Name: waitLabel(b), Count: sums["wait."+b]})
	}
	c.render(w, http.StatusOK, "stats", "", page{Title: "Statistics", User: u, CSRF: u.CSRF, Data: d})
}

func prefixed(m map[string]int64, prefix string) []tally {
	var out []tally
	for k, v := range m {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			out = append(out, tally{Name: name, Count: v})
		}
	}
	slices.SortFunc(out, func(a, b tally) int {
		if a.Count != b.Count {
			return int(b.Count - a.Count)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

func waitLabel(b string) string {
	return map[string]string{"lt1m": "under a minute", "lt5m": "1 to 5 minutes", "lt15m": "5 to 15 minutes", "lt1h": "15 to 60 minutes", "ge1h": "an hour or more"}[b]
}
