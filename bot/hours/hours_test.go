package hours

import (
	"testing"
	"time"
)

func TestOpen(t *testing.T) {
	s, err := Parse([]byte(`
timezone: Europe/Riga
week:
  mon: ["09:00-13:00", "14:00-21:00"]
  saturday: ["10:00-14:00"]
  sun: ["00:00-24:00"]
holidays: ["2026-12-21"]
`))
	if err != nil {
		t.Fatal(err)
	}
	riga, _ := time.LoadLocation("Europe/Riga")
	at := func(day, hh, mm int) time.Time { return time.Date(2026, 12, day, hh, mm, 0, 0, riga) }
	for _, c := range []struct {
		t    time.Time
		open bool
	}{
		{at(14, 9, 0), true},    // Monday
		{at(14, 13, 30), false}, // lunch
		{at(14, 20, 59), true},
		{at(14, 21, 0), false},
		{at(15, 12, 0), false}, // Tuesday: not listed
		{at(19, 10, 0), true},  // Saturday
		{at(20, 23, 59), true}, // Sunday
		{at(21, 10, 0), false}, // a Monday holiday
		{at(14, 9, 0).UTC(), true},
	} {
		if got := s.Open(c.t); got != c.open {
			t.Errorf("%v: open %v, want %v", c.t, got, c.open)
		}
	}
	var none *Schedule
	if !none.Open(time.Now()) {
		t.Fatal("no schedule means always open")
	}
}

func TestParseRefusesMistakes(t *testing.T) {
	for _, src := range []string{
		"timezone: Mars/Base\n",
		"timezone: Europe/Riga\nweek:\n  funday: [\"09:00-10:00\"]\n",
		"timezone: Europe/Riga\nweek:\n  mon: [\"10:00-09:00\"]\n",
		"timezone: Europe/Riga\nholidays: [\"24.12.2026\"]\n",
		"timezone: Europe/Riga\nweeks: {}\n",
	} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("accepted %q", src)
		}
	}
}
