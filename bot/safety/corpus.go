package safety

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/helpline/helpline/bot"
)

// Corpus is the evaluation material of one language: messages as people
// really write them, each marked with what it is.
type Corpus struct {
	Lang     string
	Danger   []string
	SelfHarm []string
	// None are innocent messages that share words with danger.
	None []string
}

// ReadCorpus reads a corpus file: # comments, then [danger], [selfharm] and
// [none] sections of one message a line.
func ReadCorpus(lang string, r io.Reader) (Corpus, error) {
	c := Corpus{Lang: lang}
	var dst *[]string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch line {
		case "", "#":
			continue
		case "[danger]":
			dst = &c.Danger
		case "[selfharm]":
			dst = &c.SelfHarm
		case "[none]":
			dst = &c.None
		default:
			if strings.HasPrefix(line, "#") {
				continue
			}
			if dst == nil {
				return c, fmt.Errorf("corpus %s, line %d: a message before [danger], [selfharm] or [none]", lang, n)
			}
			*dst = append(*dst, line)
		}
	}
	return c, sc.Err()
}

// Score is how a detector does on one corpus.
type Score struct {
	Lang                   string
	Danger, SelfHarm, None int // messages of each kind
	// CaughtDanger and CaughtSelfHarm count the messages of each kind that
	// raised an alarm of that kind; FalseAlarms the innocent ones that
	// raised any.
	CaughtDanger, CaughtSelfHarm, FalseAlarms int
	// Wrong lists each message the detector got wrong, with what it said.
	Wrong []Verdict
}

// Verdict is the detector's answer to one corpus message.
type Verdict struct {
	Want  string // danger, selfharm or none
	Text  string
	Alarm bot.Alarm
}

func (v Verdict) String() string {
	switch {
	case v.Want == "none":
		return fmt.Sprintf("false alarm (%s, %s): %s", rules(v.Alarm), v.Alarm.Lang, v.Text)
	case v.Alarm.Raised():
		return fmt.Sprintf("missed %s, took it for %s: %s", v.Want, rules(v.Alarm), v.Text)
	}
	return fmt.Sprintf("missed %s: %s", v.Want, v.Text)
}

func rules(a bot.Alarm) string {
	return strings.Trim(a.Danger+" "+a.SelfHarm, " ")
}

// Score runs the detector over c.
func (d *Detector) Score(c Corpus) Score {
	s := Score{Lang: c.Lang, Danger: len(c.Danger), SelfHarm: len(c.SelfHarm), None: len(c.None)}
	for _, t := range c.Danger {
		if a := d.Detect(t); a.Danger != "" {
			s.CaughtDanger++
		} else {
			s.Wrong = append(s.Wrong, Verdict{"danger", t, a})
		}
	}
	for _, t := range c.SelfHarm {
		if a := d.Detect(t); a.SelfHarm != "" {
			s.CaughtSelfHarm++
		} else {
			s.Wrong = append(s.Wrong, Verdict{"selfharm", t, a})
		}
	}
	for _, t := range c.None {
		if a := d.Detect(t); a.Raised() {
			s.FalseAlarms++
			s.Wrong = append(s.Wrong, Verdict{"none", t, a})
		}
	}
	return s
}

// Recall is the share of danger and of self-harm messages caught, from 0
// to 1; FalseAlarmRate the share of innocent messages that raised an alarm.
func (s Score) Recall() (danger, selfHarm float64) {
	return ratio(s.CaughtDanger, s.Danger), ratio(s.CaughtSelfHarm, s.SelfHarm)
}

// FalseAlarmRate is the share of innocent messages that raised an alarm.
func (s Score) FalseAlarmRate() float64 { return ratio(s.FalseAlarms, s.None) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// The figures a language's lexicon must reach on its corpus to ship.
const (
	MinRecall      = 0.90
	MaxFalseAlarms = 0.20
)

// Passes reports whether the score reaches the figures to ship.
func (s Score) Passes() bool {
	dr, sr := s.Recall()
	return s.Danger > 0 && s.SelfHarm > 0 && s.None > 0 &&
		dr >= MinRecall && sr >= MinRecall && s.FalseAlarmRate() <= MaxFalseAlarms
}

// Table writes the scores as a table a translator reads.
func Table(w io.Writer, scores []Score) {
	fmt.Fprintf(w, "%-5s %16s %16s %16s\n", "lang", "danger caught", "self-harm caught", "false alarms")
	for _, s := range scores {
		dr, sr := s.Recall()
		mark := ""
		if !s.Passes() {
			mark = "  below the figures to ship"
		}
		fmt.Fprintf(w, "%-5s %16s %16s %16s%s\n", s.Lang,
			fmt.Sprintf("%d/%d %3.0f%%", s.CaughtDanger, s.Danger, 100*dr),
			fmt.Sprintf("%d/%d %3.0f%%", s.CaughtSelfHarm, s.SelfHarm, 100*sr),
			fmt.Sprintf("%d/%d %3.0f%%", s.FalseAlarms, s.None, 100*s.FalseAlarmRate()), mark)
	}
}
