package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helpline/helpline/bot/lint"
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
	return dir
}

func TestLintShipped(t *testing.T) {
	out, err := lintRun(t, noEnv)
	if err != nil {
		t.Errorf("the shipped content fails lint: %v\n%s", err, out)
	}
	if !strings.Contains(out, "0 errors") {
		t.Errorf("no summary:\n%s", out)
	}
}

func TestLintGood(t *testing.T) {
	out, err := lintRun(t, noEnv, "-flows", "testdata/flows", "-locales", "testdata/locales")
	want := "0 errors, 0 warnings in 6 files of testdata/flows and 3 languages of testdata/locales (en, et, ru)\n"
	if err != nil || out != want {
		t.Errorf("lint = %v\n%s\nwant no error and\n%s", err, out, want)
	}
}

func TestLintEnvironment(t *testing.T) {
	dir := copyContent(t, contentEdit{"locales/et.toml", `"See nupp on vana."`, `"That button is old."`})
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
			dir := copyContent(t, tt.edits...)
			out, err := lintRun(t, noEnv, "-flows", filepath.Join(dir, "flows"), "-locales", filepath.Join(dir, "locales"))
			if err == nil {
				t.Errorf("lint passed:\n%s", out)
			}
			want := filepath.Join(dir, filepath.FromSlash(tt.want))
			if !strings.Contains("\n"+out, "\n"+want+"\n") {
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
