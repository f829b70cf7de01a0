package console

import (
	"cmp"
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/helpline/helpline/bot/runner"
)

// bar is one day of the chart.
type bar struct {
	Label  string
	Value  int64
	X, Y   int
	Height int
}

// tick is one line of the chart's scale.
type tick struct {
	Value int64
	Y     int
}

// tally is a count by name, for the tables.
type tally struct {
	Name  string
	Count int64
}

type statsData struct {
	Days  []bar
	Ticks []tick
	Langs []tally
	Tops  []tally
	Wraps []tally
	Waits []tally
	Total int64
}

// statsDays is how many days the statistics page shows; maxCSVDays is the
// most a CSV export covers (the counters are kept about that long).
const (
	statsDays  = 14
	maxCSVDays = 400
)

// The chart's geometry, in the SVG's own units: the plot's top, bottom and
// left edge, and the width of one day.
const (
	chartTop    = 10
	chartBottom = 150
	chartLeft   = 40
	dayWidth    = 30
)

// statsPage shows the aggregate counters of the last two weeks: cases per
// day as a chart with a scale and a date axis, and by language, topic,
// wrap-up and waiting time. The counters hold no link to a person.
func (c *Console) statsPage(w http.ResponseWriter, r *http.Request, u *user) {
	var d statsData
	sums := map[string]int64{}
	today := c.now()
	for i := statsDays - 1; i >= 0; i-- {
		day := today.AddDate(0, 0, -i)
		m, err := c.st.Stats(r.Context(), day)
		if err != nil {
			c.fail(w, r, u, err)
			return
		}
		for k, v := range m {
			sums[k] += v
		}
		n := m["case.open"]
		d.Total += n
		d.Days = append(d.Days, bar{Label: day.Format("02.01"), Value: n})
	}
	top, step := scale(slices.MaxFunc(d.Days, func(a, b bar) int { return cmp.Compare(a.Value, b.Value) }).Value)
	for v := int64(0); v <= top; v += step {
		d.Ticks = append(d.Ticks, tick{Value: v, Y: chartBottom - int(v*(chartBottom-chartTop)/top)})
	}
	for i := range d.Days {
		d.Days[i].Height = int(d.Days[i].Value * (chartBottom - chartTop) / top)
		d.Days[i].X, d.Days[i].Y = chartLeft+i*dayWidth+4, chartBottom-d.Days[i].Height
	}
	d.Langs, d.Tops, d.Wraps = prefixed(sums, "case.lang."), prefixed(sums, "case.topic."), prefixed(sums, "case.wrap.")
	for _, b := range runner.WaitBuckets {
		d.Waits = append(d.Waits, tally{Name: b, Count: sums["wait."+b]})
	}
	c.render(w, r, http.StatusOK, "stats", "", page{Title: c.locFor(r, u).T("stats.title"), User: u, CSRF: u.CSRF, Data: d})
}

// scale finds a round top for a chart whose tallest bar is max, and the
// step between its lines: 1, 2 or 5 times a power of ten, four steps or so.
func scale(max int64) (top, step int64) {
	if max < 4 {
		return 4, 1
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if step = m * p; step*4 >= max {
				return (max + step - 1) / step * step, step
			}
		}
	}
}

// statsCSV exports the counters of the cases counsellors ended, one row
// per day, language, topic, wrap-up and waiting time, for the last ?days=
// days (14 by default). Aggregate counts only: nothing names a person or a
// case.
func (c *Console) statsCSV(w http.ResponseWriter, r *http.Request, u *user) {
	days := statsDays
	if s := r.URL.Query().Get("days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxCSVDays {
			http.Error(w, "days: a number from 1 to 400", http.StatusBadRequest)
			return
		}
		days = n
	}
	today := c.now()
	var rows [][]string
	for i := days - 1; i >= 0; i-- {
		day := today.AddDate(0, 0, -i)
		m, err := c.st.Stats(r.Context(), day)
		if err != nil {
			c.fail(w, r, u, err)
			return
		}
		var dayRows [][]string
		for k, v := range m {
			parts, ok := strings.CutPrefix(k, runner.EndPrefix)
			if f := strings.Split(parts, "|"); ok && len(f) == 4 {
				dayRows = append(dayRows, append([]string{day.Format(time.DateOnly)}, append(f, strconv.FormatInt(v, 10))...))
			}
		}
		slices.SortFunc(dayRows, func(a, b []string) int { return slices.Compare(a, b) })
		rows = append(rows, dayRows...)
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="helpline-cases-`+today.Format(time.DateOnly)+`.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"day", "language", "topic", "wrap_up", "waiting", "cases"})
	cw.WriteAll(rows)
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
			return cmp.Compare(b.Count, a.Count)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}
