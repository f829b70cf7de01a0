package flow_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/flow/flowtest"
)

var update = flag.Bool("update", false, "rewrite the golden conversations with what the engine answers now")

// TestGolden replays every conversation in testdata/conversations and
// compares the bot's answers with the file. With -update it writes them.
//
// A conversation file has a header of # comments and optional "hints: et"
// and "country: EE" lines, and "channel: telegram" (default web), then what the person sends, one "> " line each:
// plain text, "#2" (tap the second choice of the last reply), "[photo]"
// (something that is not text), "[wait 25h]" (time passes),
// "[link school]" (a deep link), or what a counsellor does: "[claim]",
// "[counsellor TEXT]" (they write), "[requeue]", "[end]". A new case gets
// the code GOLD-1. The harness writes the bot's answers under
// each: "< " lines of text, numbered choices, "! " lines of effects, and
// "= xx" when the language changes.
func TestGolden(t *testing.T) {
	e, _ := flowtest.Shipped(t)
	files, err := filepath.Glob("testdata/conversations/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no conversations in testdata/conversations")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := replay(e, string(src))
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != string(src) {
				t.Errorf("%s differs from what the engine answers now (run with -update and review the diff):\n%s", file, diff(string(src), got))
			}
		})
	}
}

// replay runs the person's lines of a conversation and writes the whole
// conversation out again with the bot's answers.
func replay(e *flow.Engine, src string) (string, error) {
	var out strings.Builder
	var hints []string
	country := ""
	channel := bot.Web
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var s bot.Session
	var last []bot.Choice
	shownLang := ""
	for n, line := range strings.Split(strings.TrimRight(src, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "<"), strings.HasPrefix(line, "! "), strings.HasPrefix(line, "= "):
			continue // answers: written anew below
		case strings.HasPrefix(line, "hints: "):
			hints = strings.Fields(strings.TrimPrefix(line, "hints: "))
		case strings.HasPrefix(line, "country: "):
			country = strings.TrimSpace(strings.TrimPrefix(line, "country: "))
		case strings.HasPrefix(line, "channel: "):
			channel = bot.Channel(strings.TrimSpace(strings.TrimPrefix(line, "channel: ")))
		case strings.HasPrefix(line, "> "):
		default:
			out.WriteString(line + "\n")
			continue
		}
		if !strings.HasPrefix(line, "> ") {
			out.WriteString(line + "\n")
			continue
		}
		out.WriteString(line + "\n")
		said := strings.TrimPrefix(line, "> ")
		in := bot.Inbound{Channel: channel, Address: "golden", ID: strconv.Itoa(n), LangHints: hints, Country: country}
		switch {
		case strings.HasPrefix(said, "[wait ") && strings.HasSuffix(said, "]"):
			d, err := time.ParseDuration(said[6 : len(said)-1])
			if err != nil {
				return "", fmt.Errorf("line %d: %v", n+1, err)
			}
			now = now.Add(d)
			continue
		case said == "[photo]":
			in.Unsupported = true
		case said == "[claim]":
			in.Event = bot.Claimed
		case said == "[requeue]":
			in.Event = bot.Requeued
		case said == "[end]":
			in.Event = bot.Ended
		case strings.HasPrefix(said, "[counsellor ") && strings.HasSuffix(said, "]"):
			in.Event, in.Text = bot.CounsellorSaid, said[12:len(said)-1]
		case strings.HasPrefix(said, "[link ") && strings.HasSuffix(said, "]"):
			in.Start = said[6 : len(said)-1]
			in.Text = "/start " + in.Start
		case strings.HasPrefix(said, "#"):
			k, err := strconv.Atoi(said[1:])
			if err != nil || k < 1 || k > len(last) {
				return "", fmt.Errorf("line %d: %s is not one of the %d choices offered", n+1, said, len(last))
			}
			in.Choice = last[k-1].ID
		default:
			in.Text = said
		}
		var replies []bot.Reply
		var effects []bot.Effect
		s, replies, effects = e.Step(s, in, now)
		if s.Case.State != bot.NoCase && s.Case.Code == "" {
			s.Case.Code = "GOLD-1" // the host gives a new case its code
		}
		now = now.Add(time.Minute)
		if s.Lang != shownLang {
			out.WriteString("= " + s.Lang + "\n")
			shownLang = s.Lang
		}
		last = nil
		for _, r := range replies {
			for _, l := range strings.Split(r.Text, "\n") {
				out.WriteString(strings.TrimRight("< "+l, " ") + "\n")
			}
			for i, c := range r.Choices {
				fmt.Fprintf(&out, "<   %d. %s\n", i+1, c.Label)
			}
			last = r.Choices
		}
		for _, ef := range effects {
			out.WriteString(describe(ef) + "\n")
		}
	}
	return out.String(), nil
}

func describe(ef bot.Effect) string {
	switch ef.Kind {
	case bot.Handoff:
		keys := make([]string, 0, len(ef.Card))
		for k := range ef.Card {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var card strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&card, " %s=%q", k, ef.Card[k])
		}
		risks := ""
		if len(ef.Flags) > 0 {
			risks = " risks=" + strings.Join(ef.Flags, ",")
		}
		return fmt.Sprintf("! handoff %s topic=%s%s card:%s", ef.Priority, ef.Topic, risks, card.String())
	case bot.Alert:
		return "! alert " + ef.Name
	case bot.Relay:
		if ef.Name != "" {
			return "! relay " + ef.Name
		}
		return fmt.Sprintf("! relay %q", ef.Text)
	case bot.Cancel:
		return "! cancel"
	case bot.Place:
		return "! place"
	case bot.Erase:
		return "! erase"
	case bot.Count:
		return "! count " + ef.Name
	case bot.Problem:
		return "! problem " + ef.Name
	}
	return fmt.Sprintf("! effect %d", ef.Kind)
}

// diff shows the first lines where want and got part.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  file:   %q\n  engine: %q", i+1, wl, gl)
		}
	}
	return "(no difference in lines)"
}
