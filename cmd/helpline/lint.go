package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/bot/lint"
	"github.com/helpline/helpline/flows"
	"github.com/helpline/helpline/locales"
)

// runLint checks the flows and the locales, prints every finding as
// file:line: message, sorted, then a summary, and fails when any finding is
// an error.
func runLint(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("lint", flag.ContinueOnError)
	fset.SetOutput(stderr)
	flowsDir, localesDir := contentFlags(fset, getenv)
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("lint: %w", err)
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("lint takes no arguments, got %q", fset.Args())
	}
	src := openSources(*flowsDir, *localesDir)
	findings, scope := src.lint()
	errs := 0
	for _, f := range findings {
		fmt.Fprintln(stdout, f)
		if f.Severity == lint.Error {
			errs++
		}
	}
	fmt.Fprintf(stdout, "%s, %s %s\n", plural(errs, "error"), plural(len(findings)-errs, "warning"), scope)
	if errs > 0 {
		return fmt.Errorf("lint: %s", plural(errs, "error"))
	}
	return nil
}

// plural counts noun: "1 error", "2 errors".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// sources are the flow and locale files to lint, and the folder names to
// report them under.
type sources struct {
	flows, locales         fs.FS
	flowsRoot, localesRoot string
}

// openSources opens the folders given, or the shipped files, as
// loadContent does.
func openSources(flowsDir, localesDir string) sources {
	s := sources{flows.FS(), locales.FS(), "flows", "locales"}
	if flowsDir != "" {
		s.flows, s.flowsRoot = os.DirFS(flowsDir), flowsDir
	}
	if localesDir != "" {
		s.locales, s.localesRoot = os.DirFS(localesDir), localesDir
	}
	return s
}

// lint loads and checks the sources. It reports what stops them from
// loading as findings too, and says what it checked.
func (s sources) lint() (findings []lint.Finding, scope string) {
	var out []lint.Finding
	set, err := flow.Load(s.flows)
	if err != nil {
		out = append(out, s.flowErrors(err)...)
	}
	cat, err := lang.Load(s.locales)
	if err != nil {
		out = append(out, s.localeErrors(err)...)
	}
	same, errs := s.sameAsEnglish()
	out = append(out, errs...)
	scope = fmt.Sprintf("(%s or %s did not load)", s.flowsRoot, s.localesRoot)
	if set != nil && cat != nil {
		scope = fmt.Sprintf("in %d files of %s and %d languages of %s (%s)",
			len(set.Files), s.flowsRoot, len(cat.Languages()), s.localesRoot, strings.Join(cat.Languages(), ", "))
		for _, f := range lint.Check(set, cat, lint.Options{SameAsEnglish: same, Flows: s.flows}) {
			root := s.localesRoot
			if slices.Contains(set.Files, f.File) {
				root = s.flowsRoot
			}
			f.File = filepath.Join(root, filepath.FromSlash(f.File))
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b lint.Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return out, scope
}

// flowErrors turns what flow.Load returned into findings: one per
// flow.Error, which carries its file and line.
func (s sources) flowErrors(err error) []lint.Finding {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []lint.Finding
		for _, e := range joined.Unwrap() {
			out = append(out, s.flowErrors(e)...)
		}
		return out
	}
	var fe flow.Error
	if errors.As(err, &fe) {
		return []lint.Finding{{File: filepath.Join(s.flowsRoot, filepath.FromSlash(fe.File)), Line: fe.Line, Msg: fe.Msg}}
	}
	return []lint.Finding{{File: s.flowsRoot, Msg: err.Error()}}
}

// localeErrors turns what lang.Load returned into findings. lang.Load
// stops at the first bad file and go-i18n keeps no file name, so every
// locale file is read again to find the TOML syntax errors and their lines.
func (s sources) localeErrors(err error) []lint.Finding {
	var out []lint.Finding
	names, _ := fs.Glob(s.locales, "*.toml")
	for _, name := range names {
		src, rerr := fs.ReadFile(s.locales, name)
		if rerr != nil {
			continue // lang.Load reported it
		}
		var pe toml.ParseError
		if errors.As(toml.Unmarshal(src, new(map[string]any)), &pe) {
			out = append(out, lint.Finding{File: filepath.Join(s.localesRoot, name), Line: pe.Position.Line, Msg: pe.Message})
		}
	}
	if len(out) == 0 {
		out = append(out, lint.Finding{File: s.localesRoot, Msg: err.Error()})
	}
	return out
}

// sameAsEnglish reads the messages allowed to read as in English, when the
// locales have the file.
func (s sources) sameAsEnglish() (map[string][]string, []lint.Finding) {
	name := filepath.Join(s.localesRoot, lint.SameAsEnglishFile)
	src, err := fs.ReadFile(s.locales, lint.SameAsEnglishFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []lint.Finding{{File: name, Msg: err.Error()}}
	}
	return lint.ParseSameAsEnglish(name, src)
}
