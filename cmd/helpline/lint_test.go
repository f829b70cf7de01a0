package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/helpline/helpline/bot/lint"
	"github.com/helpline/helpline/bot/safety"
	"github.com/helpline/helpline/locales"
)

// noEnv is a getenv with nothing set.
func noEnv(string) string { return "" }

// lintRun runs the lint command and returns what it printed.
func lintRun(t *testing.T, getenv func(string) string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"lint"}, args...), getenv, strings.NewReader(""), &stdout, &stderr)
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
	return stdout.String(), err
}

// contentEdit changes the test content: it replaces old with new in file
// (flows/x.yaml or locales/x.toml); an empty old appends new.
type contentEdit struct{ file, old, new string }

// copyContent copies testdata to a temporary folder, with the edits
// applied, and returns the folder. An edit that does not apply fails the
// test, so that no case silently lints the good content.
func copyContent(t *testing.T, edits ...contentEdit) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata")); err != nil {
		t.Fatal(err)
	}
	applyEdits(t, dir, edits...)
	return dir
}

// lintContent is copyContent with the shipped safety lexicons in
// locales/safety instead of the small ones of testdata, which are far below
// the figures to ship: lint passes it unless an edit breaks it. The edits
// apply after the lexicons are copied, so they may change them too.
func lintContent(t *testing.T, edits ...contentEdit) string {
	t.Helper()
	dir := copyContent(t)
	lexicons := filepath.Join(dir, "locales", "safety")
	if err := os.RemoveAll(lexicons); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(lexicons, locales.Safety()); err != nil {
		t.Fatal(err)
	}
	applyEdits(t, dir, edits...)
	return dir
}

// applyEdits applies the edits to the content in dir.
func applyEdits(t *testing.T, dir string, edits ...contentEdit) {
	t.Helper()
	for _, e := range edits {
		name := filepath.Join(dir, filepath.FromSlash(e.file))
		src, err := os.ReadFile(name)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if e.old != "" && !bytes.Contains(src, []byte(e.old)) {
			t.Fatalf("edit of %s: %q is not there", e.file, e.old)
		}
		if e.old == "" {
			src = append(src, e.new...)
		} else {
			src = bytes.Replace(src, []byte(e.old), []byte(e.new), 1)
		}
		if err := os.WriteFile(name, src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLintShipped(t *testing.T) {
	out, err := lintRun(t, noEnv)
	if err != nil {
		t.Errorf("the shipped content fails lint: %v\n%s", err, out)
	}
	if !strings.Contains(out, "0 errors") {
		t.Errorf("no summary:\n%s", out)
	}
	d, err := safety.Load(locales.Safety())
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, out, d.Languages())
}

// TestLintCorpusFolder: -corpus measures the lexicons on a blind set of
// some languages, lists what it got wrong and fails below the figures.
func TestLintCorpusFolder(t *testing.T) {
	dir := t.TempDir()
	blind := "[danger]\nthey took my passport\nthe grey van is here again\n[selfharm]\ni want to die\n[none]\nhow do i renew my passport\n"
	if err := os.WriteFile(filepath.Join(dir, "en.txt"), []byte(blind), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := lintRun(t, noEnv, "-corpus", dir)
	if err == nil {
		t.Errorf("lint passed with half of the danger missed:\n%s", out)
	}
	for _, want := range []string{
		filepath.Join(dir, "en.txt") + ": missed danger: the grey van is here again\n",
		"safety net, measured on the corpora in " + dir + ":\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`\nen +1/2 +50% +1/1 100% +0/1 +0%  below the figures to ship\n`).MatchString(out) {
		t.Errorf("no row for en with 1 of 2 danger caught:\n%s", out)
	}
	if strings.Contains(out, "\net ") || strings.Contains(out, "no evaluation corpus") {
		t.Errorf("a language without a file in the folder was measured or reported:\n%s", out)
	}
}

// checkTable checks that out holds the corpus table under its heading, with
// a row for each language and none of them below the figures to ship.
func checkTable(t *testing.T, out string, langs []string) {
	t.Helper()
	_, table, ok := strings.Cut(out, "safety net, measured on the evaluation corpus:\n")
	if !ok || !strings.HasPrefix(table, "lang ") {
		t.Fatalf("no corpus table:\n%s", out)
	}
	for _, l := range langs {
		if !strings.Contains(table, "\n"+l+" ") {
			t.Errorf("no row for %s in the corpus table:\n%s", l, out)
		}
	}
	if strings.Contains(table, "below the figures to ship") {
		t.Errorf("a language is below the figures to ship:\n%s", out)
	}
}

func TestLintGood(t *testing.T) {
	dir := lintContent(t)
	flowsDir, localesDir := filepath.Join(dir, "flows"), filepath.Join(dir, "locales")
	out, err := lintRun(t, noEnv, "-flows", flowsDir, "-locales", localesDir)
	if err != nil {
		t.Errorf("lint = %v\n%s", err, out)
	}
	want := "0 errors, 0 warnings in 6 files of " + flowsDir + " and 3 languages of " + localesDir + " (en, et, ru)\n"
	if !strings.HasSuffix(out, "\n"+want) {
		t.Errorf("output:\n%s\nwant it to end with\n%s", out, want)
	}
	if !strings.HasPrefix(out, "safety net, measured on the evaluation corpus:\n") {
		t.Errorf("output:\n%s\nwant nothing but the corpus table before the summary", out)
	}
	checkTable(t, out, []string{"en", "et", "ru"})
}

// TestLintSafetyBelowFigures: the small lexicons of testdata are far below
// the figures to ship, and lint fails on them, naming each one.
func TestLintSafetyBelowFigures(t *testing.T) {
	out, err := lintRun(t, noEnv, "-flows", "testdata/flows", "-locales", "testdata/locales")
	if err == nil {
		t.Errorf("lint passed lexicons below the figures to ship:\n%s", out)
	}
	for _, l := range []string{"en", "et", "ru"} {
		want := filepath.Join("testdata", "locales", "safety", l+".toml") + ": below the figures to ship on the " + l + " corpus: "
		if !strings.Contains("\n"+out, "\n"+want) {
			t.Errorf("output:\n%s\nwant a line that starts\n%s", out, want)
		}
		if !regexp.MustCompile(`(?m)^` + l + ` .*  below the figures to ship$`).MatchString(out) {
			t.Errorf("the corpus table does not mark %s:\n%s", l, out)
		}
	}
	if !strings.HasSuffix(out, "\n3 errors, 0 warnings in 6 files of testdata/flows and 3 languages of testdata/locales (en, et, ru)\n") {
		t.Errorf("summary:\n%s", out)
	}
}

// TestLintSafetyMissing: a language of the locales without a lexicon, with
// or without a corpus, and a locales folder without lexicons fail lint.
func TestLintSafetyMissing(t *testing.T) {
	dir := lintContent(t)
	lexicons := filepath.Join(dir, "locales", "safety")
	if err := os.Remove(filepath.Join(lexicons, "et.toml")); err != nil {
		t.Fatal(err)
	}
	out, err := lintRun(t, noEnv, "-flows", filepath.Join(dir, "flows"), "-locales", filepath.Join(dir, "locales"))
	want := lexicons + ": no lexicon for et, and the safety net is below the figures to ship on its corpus: "
	if err == nil || !strings.Contains("\n"+out, "\n"+want) {
		t.Errorf("lint = %v\n%s\nwant an error and a line that starts\n%s", err, out, want)
	}
	// A language of the locales with neither a lexicon nor a corpus.
	if err := os.WriteFile(filepath.Join(dir, "locales", "kl.toml"), []byte("[language]\nname = \"Kalaallisut\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = lintRun(t, noEnv, "-flows", filepath.Join(dir, "flows"), "-locales", filepath.Join(dir, "locales"))
	want = lexicons + ": no lexicon for kl, which the locales serve: the safety net would not notice danger written in it\n"
	if err == nil || !strings.Contains("\n"+out, "\n"+want) {
		t.Errorf("lint = %v\n%s\nwant an error and the line\n%s", err, out, want)
	}
	if err := os.RemoveAll(lexicons); err != nil {
		t.Fatal(err)
	}
	out, err = lintRun(t, noEnv, "-flows", filepath.Join(dir, "flows"), "-locales", filepath.Join(dir, "locales"))
	want = lexicons + ": no safety lexicons: a helpline that cannot notice danger must not run\n"
	if err == nil || !strings.Contains("\n"+out, "\n"+want) {
		t.Errorf("lint = %v\n%s\nwant an error and the line\n%s", err, out, want)
	}
	if strings.Contains(out, "safety net, measured") {
		t.Errorf("a corpus table without lexicons:\n%s", out)
	}
}

func TestLintEnvironment(t *testing.T) {
	dir := lintContent(t, contentEdit{"locales/et.toml", `"See nupp on vana."`, `"That button is old."`})
	env := map[string]string{
		"HELPLINE_FLOWS_DIR":   filepath.Join(dir, "flows"),
		"HELPLINE_LOCALES_DIR": filepath.Join(dir, "locales"),
	}
	out, err := lintRun(t, func(k string) string { return env[k] })
	want := filepath.Join(dir, "locales", "et.toml") + `:9: message "common.stale" is the same as in English`
	if err == nil || !strings.Contains(out, want) {
		t.Errorf("lint = %v\n%s\nwant an error and %s", err, out, want)
	}
}

func TestLintBroken(t *testing.T) {
	long := strings.Repeat("q", 58)
	tests := []struct {
		name  string
		edits []contentEdit
		want  string // a line of the output, after the folder
		// partial: want is how the line starts
		partial bool
	}{
		{
			name:  "unknown target",
			edits: []contentEdit{{"flows/menu.yaml", "next: counsellor", "next: nowhere"}},
			want:  `flows/menu.yaml:8: node "main": target "nowhere" does not exist`,
		},
		{
			name:  "unreachable node",
			edits: []contentEdit{{"flows/quiz.yaml", "", "  orphan:\n    end: true\n"}},
			want:  `flows/quiz.yaml:20: node "orphan" is unreachable from the start of flow "quiz"`,
		},
		{
			name:  "message missing in one locale",
			edits: []contentEdit{{"locales/ru.toml", "waiting = \"Консультант скоро ответит.\"\n", ""}},
			want:  `flows/menu.yaml:12: node "counsellor": message "menu.waiting" is missing in ru`,
		},
		{
			name:  "placeholder mismatch",
			edits: []contentEdit{{"locales/et.toml", "{{._emergency}}", "{{.emergency}}"}},
			want:  `locales/et.toml:20: message "danger.now": placeholders differ from English: lacks {{._emergency}} and has {{.emergency}}, which English has not`,
		},
		{
			name:  "plural category missing in ru",
			edits: []contentEdit{{"locales/ru.toml", "few = \"У вас {{.Count}} правильных ответа.\"\n", ""}},
			want:  `locales/ru.toml:40: plural message "quiz.score" lacks the few form that ru needs (one, few, many, other)`,
		},
		{
			name:  "untranslated value",
			edits: []contentEdit{{"locales/ru.toml", `"Эта кнопка устарела."`, `"That button is old."`}},
			want:  `locales/ru.toml:9: message "common.stale" is the same as in English: translate it, or list it under ru in same-as-english.yaml`,
		},
		{
			name:  "untranslated value no longer listed",
			edits: []contentEdit{{"locales/same-as-english.yaml", "ru: [brand.name]", "ru: []"}},
			want:  `locales/ru.toml:2: message "brand.name" is the same as in English: translate it, or list it under ru in same-as-english.yaml`,
		},
		{
			name:  "choice ID over 64 bytes",
			edits: []contentEdit{{"flows/menu.yaml", "  main:", "  " + long + ":"}},
			want:  `flows/menu.yaml:3: node "` + long + `": choice ID "menu/` + long + `/1" is 65 bytes, over the 64 of Telegram's callback data: shorten the flow or node ID`,
		},
		{
			name:  "duplicate keyword",
			edits: []contentEdit{{"locales/et.toml", `"menüü | tagasi"`, `"menüü | tagasi | Unusta mind!"`}},
			want:  `locales/et.toml:16: keyword "Unusta mind!" of command "menu" is also a keyword of command "erase" (words.erase in et)`,
		},
		{
			name:  "keyword that raises the alarm",
			edits: []contentEdit{{"locales/en.toml", `"menu | back"`, `"menu | back | help me please"`}},
			// Which lexicon answers first depends on the languages shipped.
			want:    `locales/en.toml:16: keyword "help me please" of command "menu" raises the alarm danger.`,
			partial: true,
		},
		{
			name:  "safety lexicon that does not load",
			edits: []contentEdit{{"locales/safety/zz.toml", "", "[danger\nhelp = 'zzz'\n"}},
			want:  `locales/safety/zz.toml: toml: line 2: expected '.' or ']' to end table name, but got '\n' instead`,
		},
		{
			name:  "safety lexicon without a corpus",
			edits: []contentEdit{{"locales/safety/zz.toml", "", "[danger]\nhelp = 'zzz'\n"}},
			want:  `locales/safety/zz.toml: no evaluation corpus for zz: a lexicon ships only measured, so add bot/safety/testdata/corpus/zz.txt`,
		},
		{
			name:  "YAML syntax error",
			edits: []contentEdit{{"flows/quiz.yaml", "var: q1}", "var: q1"}},
			// yaml.v3 names the line of the enclosing mapping.
			want: `flows/quiz.yaml:4: did not find expected ',' or '}'`,
		},
		{
			name:  "YAML unknown field",
			edits: []contentEdit{{"flows/commands.yaml", "menu: menu", "menu: menu\nmneu: menu"}},
			want:  `flows/commands.yaml:4: field mneu not found in type flow.Global`,
		},
		{
			name:  "TOML syntax error",
			edits: []contentEdit{{"locales/et.toml", `name = "Eesti"`, `name = "Eesti`}},
			want:  `locales/et.toml:5: strings cannot contain newlines`,
		},
		{
			name:  "same-as-english syntax error",
			edits: []contentEdit{{"locales/same-as-english.yaml", "ru: [brand.name]", "ru: brand.name"}},
			want:  "locales/same-as-english.yaml:3: cannot unmarshal !!str `brand.name` into []string",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := lintContent(t, tt.edits...)
			out, err := lintRun(t, noEnv, "-flows", filepath.Join(dir, "flows"), "-locales", filepath.Join(dir, "locales"))
			if err == nil {
				t.Errorf("lint passed:\n%s", out)
			}
			want := filepath.Join(dir, filepath.FromSlash(tt.want))
			if line := "\n" + want + "\n"; tt.partial {
				line = line[:len(line)-1]
				if !strings.Contains("\n"+out, line) {
					t.Errorf("output:\n%s\nwant a line that starts:\n%s", out, want)
				}
			} else if !strings.Contains("\n"+out, line) {
				t.Errorf("output:\n%s\nwant the line:\n%s", out, want)
			}
		})
	}
}

// TestSameAsEnglishShipped guards the embedding: lint reads the exceptions
// from the embedded locales, so a file beside them must be embedded too.
func TestSameAsEnglishShipped(t *testing.T) {
	if _, err := os.Stat(filepath.Join("..", "..", "locales", lint.SameAsEnglishFile)); err != nil {
		return // nothing to embed
	}
	if _, err := fs.ReadFile(locales.FS(), lint.SameAsEnglishFile); err != nil {
		t.Errorf("locales/%s is not embedded: add it to the go:embed line of locales/locales.go: %v", lint.SameAsEnglishFile, err)
	}
}
