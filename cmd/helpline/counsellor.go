package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/helpline/helpline/bot/console"
	"github.com/helpline/helpline/bot/store"
)

const counsellorUsage = `usage:
  helpline counsellor add NAME [--role counsellor|supervisor] [--langs en,ru] [--capacity 3]
  helpline counsellor list
  helpline counsellor disable NAME
  helpline counsellor enable NAME

The password is read from standard input (asked for, without echo, on a
terminal), never from the command line. Accounts live in HELPLINE_REDIS_URL.`

// runCounsellor manages the console's accounts.
func runCounsellor(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError(counsellorUsage)
	}
	url := getenv("HELPLINE_REDIS_URL")
	if url == "" {
		return errors.New("counsellor accounts need HELPLINE_REDIS_URL: the demo mode keeps nothing")
	}
	rdb, closeRedis, err := openRedis(url, 2, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer closeRedis()
	st := store.New(rdb, store.Options{})
	switch args[0] {
	case "add":
		return addCounsellor(ctx, st, args[1:], stdin, stdout)
	case "list":
		return listCounsellors(ctx, st, stdout)
	case "disable", "enable":
		if len(args) != 2 {
			return usageError(counsellorUsage)
		}
		if err := st.SetDisabled(ctx, args[1], args[0] == "disable"); err != nil {
			return fmt.Errorf("%s %s: %w", args[0], args[1], err)
		}
		fmt.Fprintf(stdout, "%s: %sd\n", args[1], args[0])
		return nil
	}
	return usageError(counsellorUsage)
}

func addCounsellor(ctx context.Context, st *store.Store, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageError(counsellorUsage)
	}
	name := args[0]
	fs := flag.NewFlagSet("counsellor add", flag.ContinueOnError)
	fs.SetOutput(stdout)
	role := fs.String("role", "counsellor", "counsellor or supervisor")
	langs := fs.String("langs", "en", "the languages the counsellor answers in, comma-separated")
	capacity := fs.Int("capacity", 3, "how many cases the counsellor may hold at once")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if !console.ValidName(name) || !slices.Contains([]string{"counsellor", "supervisor"}, *role) || *capacity < 1 {
		return fmt.Errorf("a name is 2 to 32 letters, digits, dots or dashes; role counsellor or supervisor; capacity 1 or more")
	}
	password, err := readPassword(stdin, stdout)
	if err != nil {
		return err
	}
	hash, err := console.HashPassword(password)
	if err != nil {
		return err
	}
	var ls []string
	for _, l := range strings.Split(*langs, ",") {
		if l = strings.TrimSpace(l); l != "" {
			ls = append(ls, l)
		}
	}
	a := store.Account{Name: name, Hash: hash, Role: *role, Langs: ls, Capacity: *capacity, Created: time.Now()}
	if err := st.AddAccount(ctx, a); err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	fmt.Fprintf(stdout, "%s: added, %s, languages %s, up to %d cases\n", name, *role, strings.Join(ls, " "), *capacity)
	return nil
}

// readPassword reads the password: on a terminal it asks twice without
// echo; otherwise it reads the first line of stdin.
func readPassword(stdin io.Reader, stdout io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && isTerminal(f) {
		first, err := askHidden(f, stdout, "password: ")
		if err != nil {
			return "", err
		}
		again, err := askHidden(f, stdout, "again: ")
		if err != nil {
			return "", err
		}
		if first != again {
			return "", errors.New("the passwords differ")
		}
		return first, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func askHidden(f *os.File, out io.Writer, prompt string) (string, error) {
	fmt.Fprint(out, prompt)
	restore := noEcho(f)
	line, err := bufio.NewReader(f).ReadString('\n')
	restore()
	fmt.Fprintln(out)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func listCounsellors(ctx context.Context, st *store.Store, stdout io.Writer) error {
	as, err := st.Accounts(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(as, func(a, b store.Account) int { return strings.Compare(a.Name, b.Name) })
	for _, a := range as {
		state := "active"
		if a.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(stdout, "%-20s %-10s %-8s %-10s up to %d cases\n", a.Name, a.Role, state, strings.Join(a.Langs, ","), a.Capacity)
	}
	return nil
}

// usageError is the error that shows a subcommand's usage text.
func usageError(text string) error { return errors.New(strings.TrimRight(text, "\n")) }
