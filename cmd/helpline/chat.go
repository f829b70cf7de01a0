package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
)

const chatBanner = "helpline chat: write as the person would; :help lists the simulator's commands, :quit leaves."

const chatHelp = `:quit         leave
:reset        start a new session, as a new person
:session      show what the session holds
:photo        send a photo (a message the bot cannot read)
:link NAME    open a deep link, as t.me/<bot>?start=NAME does
:wait 25h     let time pass before the next message
:claim        play the counsellor: take the waiting case
:say TEXT     play the counsellor: write TEXT to the person
:end          play the counsellor: end the case
a number      taps the choice of that number`

// runChat lets a person talk to the flows in the terminal, with the
// session in memory and no Redis or network: what it prints is what the
// engine answers, with its effects on their own lines.
func runChat(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	fset := flag.NewFlagSet("chat", flag.ContinueOnError)
	fset.SetOutput(stdout)
	flowsDir, localesDir := contentFlags(fset, getenv)
	hint := fset.String("lang", "", "the person's language, as a hint for the first message (en, et, ru, ...)")
	country := fset.String("country", "", "the person's country (ISO 3166 alpha-2), for the emergency numbers")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("chat: %w", err)
	}
	cont, err := loadContent(*flowsDir, *localesDir)
	if err != nil {
		return err
	}
	engine, err := cont.engine(flow.Options{})
	if err != nil {
		return fmt.Errorf("start the engine: %w", err)
	}
	c := &chat{
		engine:      engine,
		out:         stdout,
		country:     strings.ToUpper(*country),
		dim:         isTerminal(stdout) && getenv("NO_COLOR") == "",
		interactive: isTerminal(stdin),
	}
	if *hint != "" {
		c.hints = []string{*hint}
	}
	return c.run(ctx, stdin)
}

// chat is one simulated conversation.
type chat struct {
	engine  *flow.Engine
	out     io.Writer
	hints   []string
	country string
	session bot.Session
	// choices are the choices of the last reply: a number taps one.
	choices []bot.Choice
	// later is how far :wait moved the clock.
	later time.Duration
	sent  int
	// dim draws the simulator's own lines dim; interactive means a person
	// types, so the terminal echoes their lines and a prompt helps.
	dim, interactive bool
}

// run reads lines until the input ends, :quit, or ctx is done.
func (c *chat) run(ctx context.Context, stdin io.Reader) error {
	fmt.Fprintln(c.out, chatBanner)
	done := make(chan struct{})
	defer close(done)
	lines, errc := readLines(stdin, done)
	for {
		if c.interactive {
			fmt.Fprint(c.out, "> ")
		}
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			if c.interactive {
				fmt.Fprintln(c.out) // end the prompt line after ^D
			}
			return <-errc
		}
		if !c.interactive {
			fmt.Fprintln(c.out, ">", line)
		}
		if quit := c.handle(line); quit {
			return nil
		}
	}
}

// readLines sends the lines of r on a channel, so that a wait for input
// can end with the context. The reader stops at the end of the input or
// when done is closed; a read the terminal never answers is left to end
// with the process.
func readLines(r io.Reader, done <-chan struct{}) (<-chan string, <-chan error) {
	lines, errc := make(chan string), make(chan error, 1)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case lines <- strings.TrimSuffix(sc.Text(), "\r"):
			case <-done:
				return
			}
		}
		if err := sc.Err(); err != nil {
			errc <- fmt.Errorf("read input: %w", err)
		}
		close(errc)
	}()
	return lines, errc
}

// handle acts on one line: a command of the simulator or a message. It
// reports whether the person asked to quit.
func (c *chat) handle(line string) (quit bool) {
	text := strings.TrimSpace(line)
	cmd, arg, _ := strings.Cut(text, " ")
	switch {
	case text == "":
		return false
	case cmd == ":quit" || cmd == ":q":
		return true
	case cmd == ":help":
		c.note(strings.Split(chatHelp, "\n")...)
	case cmd == ":reset":
		c.session, c.choices, c.later = bot.Session{}, nil, 0
		c.note("new session")
	case cmd == ":session":
		c.note(describeSession(c.session)...)
	case cmd == ":photo":
		c.send(bot.Inbound{Unsupported: true})
	case cmd == ":link":
		c.send(bot.Inbound{Start: strings.TrimSpace(arg)})
	case cmd == ":claim" || cmd == ":say" || cmd == ":end":
		c.counsellor(cmd, strings.TrimSpace(arg))
	case cmd == ":wait":
		d, err := time.ParseDuration(strings.TrimSpace(arg))
		if err != nil || d <= 0 {
			c.note(":wait needs a duration, such as 25h or 90m")
			return false
		}
		c.later += d
		c.note("the clock moves on " + d.String())
	case isCommand(cmd):
		c.note("no simulator command " + cmd + "; :help lists them")
	default:
		c.send(c.inbound(text))
	}
	return false
}

// counsellor plays the counsellor's side of a case.
func (c *chat) counsellor(cmd, text string) {
	if c.session.Case.State == bot.NoCase {
		c.note("no case is open: ask for a counsellor first")
		return
	}
	switch cmd {
	case ":claim":
		c.send(bot.Inbound{Event: bot.Claimed})
	case ":say":
		c.send(bot.Inbound{Event: bot.CounsellorSaid, Text: text})
	case ":end":
		c.send(bot.Inbound{Event: bot.Ended})
	}
}

// isCommand reports whether s looks like a command of the simulator, a
// colon and a word; anything else (":)") is a message.
func isCommand(s string) bool {
	word, ok := strings.CutPrefix(s, ":")
	return ok && word != "" && strings.IndexFunc(word, func(r rune) bool { return r < 'a' || r > 'z' }) < 0
}

// inbound makes a message of what the person typed: the number of a choice
// shown is a tap on it, as a button would send.
func (c *chat) inbound(text string) bot.Inbound {
	if k, err := strconv.Atoi(text); err == nil && k >= 1 && k <= len(c.choices) {
		return bot.Inbound{Choice: c.choices[k-1].ID}
	}
	return bot.Inbound{Text: text}
}

// send runs one step of the conversation and prints what the bot answers
// and what it asks of the host.
func (c *chat) send(in bot.Inbound) {
	c.sent++
	in.Channel = bot.Web
	in.Address = "terminal"
	in.ID = strconv.Itoa(c.sent)
	in.LangHints = c.hints
	in.Country = c.country
	s, replies, effects := c.engine.Step(c.session, in, time.Now().Add(c.later))
	if s.Case.State != bot.NoCase && s.Case.Code == "" {
		s.Case.Code = "SIM-001" // the host gives a new case its code
	}
	c.session = s
	c.choices = nil
	for _, r := range replies {
		fmt.Fprintln(c.out, r.Text)
		for i, ch := range r.Choices {
			fmt.Fprintf(c.out, "  %d. %s\n", i+1, ch.Label)
		}
		c.choices = r.Choices
	}
	if len(replies) == 0 {
		c.note("no reply")
	}
	for _, e := range effects {
		c.note(describeEffect(e))
	}
}

// note prints the simulator's own lines in brackets, dim on a terminal.
func (c *chat) note(lines ...string) {
	for _, l := range lines {
		if c.dim {
			fmt.Fprintf(c.out, "\x1b[2m[%s]\x1b[0m\n", l)
		} else {
			fmt.Fprintf(c.out, "[%s]\n", l)
		}
	}
}

// describeEffect says what an effect asks of the host, in a few words.
func describeEffect(e bot.Effect) string {
	switch e.Kind {
	case bot.Handoff:
		s := "handoff " + e.Priority.String() + " topic=" + e.Topic
		if len(e.Flags) > 0 {
			s += " risks=" + strings.Join(e.Flags, ",")
		}
		if len(e.Card) > 0 {
			s += " | " + pairs(e.Card)
		}
		return s
	case bot.Alert:
		return "alert " + e.Name
	case bot.Relay:
		if e.Name != "" {
			return "relay to the counsellor: " + e.Name
		}
		return "relay to the counsellor"
	case bot.Cancel:
		return "case cancelled"
	case bot.Place:
		return "tell the place in the queue"
	case bot.Erase:
		return "erase"
	case bot.Count:
		return "count " + e.Name
	case bot.Problem:
		return "problem " + e.Name
	}
	return fmt.Sprintf("effect %d", e.Kind)
}

// describeSession lists what a session holds, one item a line.
func describeSession(s bot.Session) []string {
	lang := s.Lang
	if lang == "" {
		lang = "not chosen yet"
	}
	stack := "rest"
	if len(s.Stack) > 0 {
		frames := make([]string, len(s.Stack))
		for i, f := range s.Stack {
			frames[i] = f.Flow + "/" + f.Node
		}
		stack = strings.Join(frames, " > ")
	}
	out := []string{"lang " + lang, "at " + stack, "vars " + pairs(s.Vars)}
	if s.Retries > 0 {
		out = append(out, "retries "+strconv.Itoa(int(s.Retries)))
	}
	if s.Case.State != bot.NoCase {
		out = append(out, "case "+s.Case.Code+" "+s.Case.State.String())
	}
	return out
}

// pairs writes a map as k=v pairs in key order, quoting values that hold
// spaces, or "none".
func pairs(m map[string]string) string {
	if len(m) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := m[k]
		if v == "" || strings.ContainsAny(v, " \"=") {
			v = strconv.Quote(v)
		}
		b.WriteString(k + "=" + v)
	}
	return b.String()
}

// isTerminal reports whether f is a terminal rather than a pipe or a file.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	info, err := file.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
