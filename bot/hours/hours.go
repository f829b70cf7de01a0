// Package hours reads a helpline's opening hours (a time zone, a weekly
// schedule and holidays) and says whether counsellors are at work at a
// given time.
package hours

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	_ "time/tzdata" // a container image may have no zone files

	"gopkg.in/yaml.v3"
)

// Schedule is when counsellors are at work. A nil Schedule is always open.
type Schedule struct {
	loc      *time.Location
	week     [7][]span // by time.Weekday
	holidays map[string]bool
}

// span is a stretch of a day, in minutes since midnight, to exclusive.
type span struct{ from, to int }

type file struct {
	Timezone string              `yaml:"timezone"`
	Week     map[string][]string `yaml:"week"`
	Holidays []string            `yaml:"holidays"`
}

var days = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// Parse reads a schedule file:
//
//	timezone: Europe/Riga
//	week:
//	  mon: ["09:00-13:00", "14:00-21:00"]
//	  sat: ["10:00-14:00"]
//	  sun: ["00:00-24:00"]
//	holidays: ["2026-12-24", "2026-12-25"]
//
// A day that is not listed is closed; a holiday is closed all day.
func Parse(b []byte) (*Schedule, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("opening hours: %w", err)
	}
	loc, err := time.LoadLocation(f.Timezone)
	if err != nil || f.Timezone == "" {
		return nil, fmt.Errorf("opening hours: timezone %q: want a zone such as Europe/Riga", f.Timezone)
	}
	s := &Schedule{loc: loc, holidays: map[string]bool{}}
	for day, spans := range f.Week {
		wd, ok := days[strings.ToLower(day)[:min(3, len(day))]]
		if !ok {
			return nil, fmt.Errorf("opening hours: day %q: want mon, tue, wed, thu, fri, sat or sun", day)
		}
		for _, sp := range spans {
			p, err := parseSpan(sp)
			if err != nil {
				return nil, fmt.Errorf("opening hours: %s: %w", day, err)
			}
			s.week[wd] = append(s.week[wd], p)
		}
	}
	for _, h := range f.Holidays {
		if _, err := time.Parse("2006-01-02", h); err != nil {
			return nil, fmt.Errorf("opening hours: holiday %q: want a date such as 2026-12-24", h)
		}
		s.holidays[h] = true
	}
	return s, nil
}

func parseSpan(s string) (span, error) {
	a, b, ok := strings.Cut(strings.ReplaceAll(s, " ", ""), "-")
	from, err1 := clock(a)
	to, err2 := clock(b)
	if !ok || err1 != nil || err2 != nil || to <= from {
		return span{}, fmt.Errorf("%q: want a span such as 09:00-17:00", s)
	}
	return span{from, to}, nil
}

func clock(s string) (int, error) {
	var h, m int
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m > 0) {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return h*60 + m, nil
}

// Open reports whether counsellors are at work at t.
func (s *Schedule) Open(t time.Time) bool {
	if s == nil {
		return true
	}
	t = t.In(s.loc)
	if s.holidays[t.Format("2006-01-02")] {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	for _, sp := range s.week[t.Weekday()] {
		if m >= sp.from && m < sp.to {
			return true
		}
	}
	return false
}
