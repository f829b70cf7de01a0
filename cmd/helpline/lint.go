package main

import (
	"bytes"
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
	"github.com/helpline/helpline/bot/safety"
	"github.com/helpline/helpline/flows"
	"github.com/helpline/helpline/locales"
)

// runLint checks the flows, the locales and the safety lexicons, prints
// every finding as file:line: message, sorted, then how the safety net does
// on the evaluation corpus, then a summary, and fails when any finding is an
// error.
func runLint(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("lint", flag.ContinueOnError)
	fset.SetOutput(stderr)
	flowsDir, localesDir := contentFlags(fset, getenv)
	corpusFlag := fset.String("corpus", "", "measure the safety net on the corpora in this folder (<lang>.txt, as in "+corpusDir+") instead of the shipped ones, and list every miss and false alarm: for a blind set the lexicons were not written from")
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
	if *corpusFlag != "" {
		src.corpora, src.corpusRoot, src.given = os.DirFS(*corpusFlag), *corpusFlag, true
	}
	findings, scores, scope := src.lint()
	errs := 0
	for _, f := range findings {
		fmt.Fprintln(stdout, f)
		if f.Severity == lint.Error {
			errs++
		}
	}
	if len(scores) > 0 {
		heading := "safety net, measured on the evaluation corpus:"
		if src.given {
			for _, sc := range scores {
				for _, v := range sc.Wrong {
					fmt.Fprintf(stdout, "%s: %s\n", filepath.Join(src.corpusRoot, sc.Lang+".txt"), v)
				}
			}
			heading = fmt.Sprintf("safety net, measured on the corpora in %s:", src.corpusRoot)
		}
		fmt.Fprintln(stdout, heading)
		safety.Table(stdout, scores)
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

// corpusDir is where the evaluation corpora live in the repository, for
// the findings that name them.
const corpusDir = "bot/safety/testdata/corpus"

// sources are the flow, locale and safety lexicon files to lint, and the
// folder names to report them under.
type sources struct {
	flows, locales, safety             fs.FS
	flowsRoot, localesRoot, safetyRoot string
	// corpora are the evaluation corpora, one <lang>.txt each; only
	// corpusRoot names them in findings. A folder given instead of the
	// shipped corpora may hold some languages only.
	corpora    fs.FS
	corpusRoot string
	given      bool
}

// openSources opens the folders given, or the shipped files, as
// loadContent does: the safety lexicons are the safety folder of the
// locales.
func openSources(flowsDir, localesDir string) sources {
	s := sources{flows.FS(), locales.FS(), locales.Safety(), "flows", "locales", filepath.Join("locales", "safety"), safety.Corpora(), filepath.FromSlash(corpusDir), false}
	if flowsDir != "" {
		s.flows, s.flowsRoot = os.DirFS(flowsDir), flowsDir
	}
	if localesDir != "" {
		s.locales, s.localesRoot = os.DirFS(localesDir), localesDir
		s.safetyRoot = filepath.Join(localesDir, "safety")
		s.safety = os.DirFS(s.safetyRoot)
	}
	return s
}

// lint loads and checks the sources, and measures the safety net on the
// evaluation corpora of the languages it serves. It reports what stops them
// from loading as findings too, and says what it checked.
func (s sources) lint() (findings []lint.Finding, scores []safety.Score, scope string) {
	var out []lint.Finding
	set, err := flow.Load(s.flows)
	if err != nil {
		out = append(out, s.flowErrors(err)...)
	}
	cat, err := lang.Load(s.locales)
	if err != nil {
		out = append(out, s.localeErrors(err)...)
	}
	opts := lint.Options{Flows: s.flows}
	var errs []lint.Finding
	opts.SameAsEnglish, errs = s.sameAsEnglish()
	out = append(out, errs...)
	det, errs := s.loadSafety()
	out = append(out, errs...)
	if det != nil {
		// Only a detector that loaded: a nil *Detector in the interface
		// would not be nil.
		opts.Safety = det
		served := slices.Clone(det.Languages())
		if cat != nil {
			served = append(served, cat.Languages()...)
		}
		slices.Sort(served)
		scores, errs = s.measure(det, slices.Compact(served))
		out = append(out, errs...)
	}
	scope = fmt.Sprintf("(%s or %s did not load)", s.flowsRoot, s.localesRoot)
	if set != nil && cat != nil {
		scope = fmt.Sprintf("in %d files of %s and %d languages of %s (%s)",
			len(set.Files), s.flowsRoot, len(cat.Languages()), s.localesRoot, strings.Join(cat.Languages(), ", "))
		for _, f := range lint.Check(set, cat, opts) {
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
	return out, scores, scope
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

// loadSafety loads the safety lexicons. What stops them from loading is
// reported at the lexicon it is in, or at the folder.
func (s sources) loadSafety() (*safety.Detector, []lint.Finding) {
	det, err := safety.Load(s.safety)
	if err == nil {
		return det, nil
	}
	names, _ := fs.Glob(s.safety, "*.toml")
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	var out []lint.Finding
	for _, e := range errs {
		f := lint.Finding{File: s.safetyRoot, Msg: e.Error()}
		for _, name := range names {
			if msg, ok := strings.CutPrefix(e.Error(), name+": "); ok {
				f = lint.Finding{File: filepath.Join(s.safetyRoot, name), Msg: msg}
			}
		}
		out = append(out, f)
	}
	return nil, out
}

// measure scores det on the evaluation corpus of every language served: a
// language of the lexicons or of the locales. A language below the figures
// to ship is an error; so are a lexicon without a corpus, since nobody knows
// what it misses, and a language of the locales with neither a lexicon nor
// a corpus, whose danger nothing notices.
func (s sources) measure(det *safety.Detector, served []string) ([]safety.Score, []lint.Finding) {
	var scores []safety.Score
	var out []lint.Finding
	for _, code := range served {
		hasLexicon := slices.Contains(det.Languages(), code)
		c, err := s.corpus(code)
		switch {
		case errors.Is(err, fs.ErrNotExist) && s.given:
			continue // a blind set of some languages only
		case errors.Is(err, fs.ErrNotExist) && hasLexicon:
			out = append(out, lint.Finding{File: s.lexiconFile(code), Msg: fmt.Sprintf("no evaluation corpus for %s: a lexicon ships only measured, so add %s/%s.txt", code, s.corpusRoot, code)})
			continue
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, lint.Finding{File: s.safetyRoot, Msg: fmt.Sprintf("no lexicon for %s, which the locales serve: the safety net would not notice danger written in it", code)})
			continue
		case err != nil:
			out = append(out, lint.Finding{File: filepath.Join(s.corpusRoot, code+".txt"), Msg: err.Error()})
			continue
		}
		sc := det.Score(c)
		scores = append(scores, sc)
		if sc.Passes() {
			continue
		}
		dr, sr := sc.Recall()
		figures := fmt.Sprintf("%.0f%% of danger and %.0f%% of self-harm caught, %.0f%% false alarms; to ship, at least %.0f%% of each caught and at most %.0f%% false alarms",
			100*dr, 100*sr, 100*sc.FalseAlarmRate(), 100*safety.MinRecall, 100*safety.MaxFalseAlarms)
		if hasLexicon {
			out = append(out, lint.Finding{File: s.lexiconFile(code), Msg: fmt.Sprintf("below the figures to ship on the %s corpus: %s", code, figures)})
		} else {
			out = append(out, lint.Finding{File: s.safetyRoot, Msg: fmt.Sprintf("no lexicon for %s, and the safety net is below the figures to ship on its corpus: %s", code, figures)})
		}
	}
	return scores, out
}

// corpus reads the evaluation corpus of language code. Its error is
// fs.ErrNotExist when the language has none.
func (s sources) corpus(code string) (safety.Corpus, error) {
	src, err := fs.ReadFile(s.corpora, code+".txt")
	if err != nil {
		return safety.Corpus{}, err
	}
	return safety.ReadCorpus(code, bytes.NewReader(src))
}

// lexiconFile is the name to report the lexicon of language code under.
func (s sources) lexiconFile(code string) string {
	return filepath.Join(s.safetyRoot, code+".toml")
}
