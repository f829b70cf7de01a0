package lint

import (
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/bot/safety"
)

// edit replaces old with new in one file of the test content; an empty old
// appends new.
type edit struct{ file, old, new string }

// load reads testdata/good with the edits applied: the flows, the locales,
// and the safety lexicons in safety/, whose detector it returns. It fails
// the test when an edit does not apply, so that a case cannot silently test
// the good content.
func load(t *testing.T, edits ...edit) (*flow.Set, *lang.Catalog, fs.FS, *safety.Detector) {
	t.Helper()
	content := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS("testdata/good"), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := os.ReadFile("testdata/good/" + name)
		content[name] = &fstest.MapFile{Data: src}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edits {
		f := content[e.file]
		if f == nil {
			f = &fstest.MapFile{}
			content[e.file] = f
		}
		src := string(f.Data)
		if e.old == "" {
			src += e.new
		} else if !strings.Contains(src, e.old) {
			t.Fatalf("edit of %s: %q is not there", e.file, e.old)
		}
		f.Data = []byte(strings.Replace(src, e.old, e.new, 1))
	}
	flows, err := fs.Sub(content, "flows")
	if err != nil {
		t.Fatal(err)
	}
	locales, err := fs.Sub(content, "locales")
	if err != nil {
		t.Fatal(err)
	}
	set, err := flow.Load(flows)
	if err != nil {
		t.Fatalf("load flows: %v", err)
	}
	cat, err := lang.Load(locales)
	if err != nil {
		t.Fatalf("load locales: %v", err)
	}
	lexicons, err := fs.Sub(content, "safety")
	if err != nil {
		t.Fatal(err)
	}
	det, err := safety.Load(lexicons)
	if err != nil {
		t.Fatalf("load safety lexicons: %v", err)
	}
	return set, cat, flows, det
}

func TestCheck(t *testing.T) {
	long := strings.Repeat("Sõnum, mis on liiga pikk. ", 10) // UCS-2: õ
	tests := []struct {
		name  string
		edits []edit
		same  map[string][]string
		want  []string
	}{
		{name: "good content"},
		{
			name:  "structural error from flow.Check",
			edits: []edit{{"flows/menu.yaml", "next: count", "next: nowhere"}},
			want: []string{
				`menu.yaml:6: node "main": target "nowhere" does not exist`,
				`menu.yaml:10: node "count" is unreachable from the start of flow "menu"`,
			},
		},
		{
			name:  "label missing in one locale",
			edits: []edit{{"locales/et.toml", "code = \"Minu kood\"\n", ""}},
			want:  []string{`menu.yaml:8: node "main": message "menu.code" is missing in et`},
		},
		{
			name:  "message missing in two locales",
			edits: []edit{{"locales/et.toml", "hello = \"Tere.\"\n", ""}, {"locales/ru.toml", "hello = \"Здравствуйте.\"\n", ""}},
			want:  []string{`welcome.yaml:4: node "hello": message "welcome.hello" is missing in et, ru`},
		},
		{
			name:  "reply missing, at its line in the commands file",
			edits: []edit{{"locales/ru.toml", "stale = \"Эта кнопка устарела.\"\n", ""}},
			want:  []string{`commands.yaml:6: reply stale: message "common.stale" is missing in ru`},
		},
		{
			name:  "keywords missing, at the command",
			edits: []edit{{"locales/et.toml", "erase = \"unusta mind\"\n", ""}},
			want:  []string{`commands.yaml:22: keywords of command "erase": message "words.erase" is missing in et`},
		},
		{
			name:  "placeholder mismatch",
			edits: []edit{{"locales/et.toml", "{{.code}}", "{{.kood}}"}},
			want:  []string{`et.toml:30: message "menu.code_is": placeholders differ from English: lacks {{.code}} and has {{.kood}}, which English has not`},
		},
		{
			name:  "placeholder missing in one plural form only is fine",
			edits: []edit{{"locales/et.toml", `one = "Sul on {{.Count}} vastus."`, `one = "Sul on üks vastus."`}},
		},
		{
			name:  "placeholder missing in every plural form",
			edits: []edit{{"locales/ru.toml", "{{.Count}}", "N"}, {"locales/ru.toml", "{{.Count}}", "N"}, {"locales/ru.toml", "{{.Count}}", "N"}, {"locales/ru.toml", "{{.Count}}", "N"}},
			want:  []string{`ru.toml:32: message "menu.counted": placeholders differ from English: lacks {{.Count}}`},
		},
		{
			name:  "template syntax error",
			edits: []edit{{"locales/en.toml", "{{.code}}.", "{{.code."}},
			want:  []string{`en.toml:30: message "menu.code_is" is not a valid template: parse template: template: menu.code_is:1: unexpected "." in operand`},
		},
		{
			name:  "plural category missing in ru",
			edits: []edit{{"locales/ru.toml", "few = \"У вас {{.Count}} ответа.\"\n", ""}},
			want:  []string{`ru.toml:32: plural message "menu.counted" lacks the few form that ru needs (one, few, many, other)`},
		},
		{
			name:  "plural message without plural forms in et",
			edits: []edit{{"locales/et.toml", "one = \"Sul on {{.Count}} vastus.\"\n", ""}},
			want:  []string{`et.toml:32: plural message "menu.counted" lacks the one form that et needs (one, other)`},
		},
		{
			name:  "untranslated",
			edits: []edit{{"locales/et.toml", `"See nupp on vana."`, `"That button is old."`}},
			want:  []string{`et.toml:6: message "common.stale" is the same as in English: translate it, or list it under et in same-as-english.yaml`},
		},
		{
			name:  "untranslated but listed",
			edits: []edit{{"locales/et.toml", `"See nupp on vana."`, `"That button is old."`}},
			same:  map[string][]string{"et": {"common.stale"}, "ru": {"menu.code"}},
		},
		{
			name:  "listed for another language",
			edits: []edit{{"locales/et.toml", `"See nupp on vana."`, `"That button is old."`}},
			same:  map[string][]string{"ru": {"common.stale"}},
			want:  []string{`et.toml:6: message "common.stale" is the same as in English: translate it, or list it under et in same-as-english.yaml`},
		},
		{
			name:  "same as English without letters",
			edits: []edit{{"locales/en.toml", `"Call 112 now."`, `"112"`}, {"locales/et.toml", `"Helista kohe 112."`, `"112"`}, {"locales/ru.toml", `"Звоните 112 сейчас."`, `"112"`}},
		},
		{
			name:  "choice ID of 64 bytes fits",
			edits: []edit{{"flows/menu.yaml", "  main:", "  " + strings.Repeat("q", 57) + ":"}},
		},
		{
			name:  "choice ID of 65 bytes",
			edits: []edit{{"flows/menu.yaml", "  main:", "  " + strings.Repeat("q", 58) + ":"}},
			want:  []string{`menu.yaml:3: node "` + strings.Repeat("q", 58) + `": choice ID "menu/` + strings.Repeat("q", 58) + `/1" is 65 bytes, over the 64 of Telegram's callback data: shorten the flow or node ID`},
		},
		{
			name:  "language choice ID over 64 bytes",
			edits: []edit{{"flows/welcome.yaml", "  hello:", "  " + strings.Repeat("h", 56) + ":"}},
			want:  []string{`welcome.yaml:3: node "` + strings.Repeat("h", 56) + `": choice ID "welcome/` + strings.Repeat("h", 56) + `/en" is 67 bytes, over the 64 of Telegram's callback data: shorten the flow or node ID`},
		},
		{
			name:  "duplicate keyword in one language",
			edits: []edit{{"locales/et.toml", `"unusta mind"`, `"unusta mind | Menüü"`}},
			want:  []string{`et.toml:14: keyword "Menüü" of command "erase" is also a keyword of command "menu" (words.menu in et)`},
		},
		{
			name:  "duplicate keyword across languages",
			edits: []edit{{"locales/ru.toml", `"забудь меня"`, `"забудь меня | BACK!"`}},
			want:  []string{`ru.toml:14: keyword "BACK!" of command "erase" is also a keyword of command "menu" (words.menu in en)`},
		},
		{
			name:  "same keyword of one command in two languages is fine",
			edits: []edit{{"locales/et.toml", `"menüü | tagasi"`, `"menüü | tagasi | menu"`}},
		},
		{
			name:  "keyword that raises the alarm",
			edits: []edit{{"locales/en.toml", `"menu | back"`, `"menu | back | help me"`}},
			want:  []string{`en.toml:13: keyword "help me" of command "menu" raises the alarm danger.help (lexicon en): the safety net answers it, never the command`},
		},
		{
			name:  "answer word that raises the alarm",
			edits: []edit{{"locales/en.toml", `"no | n"`, `"no | n | help me"`}},
			want:  []string{`en.toml:11: "help me", which a person taps or types to answer (reply no), raises the alarm danger.help (lexicon en): the safety net would answer it instead`},
		},
		{
			name:  "keyword that raises the alarm of another language",
			edits: []edit{{"locales/en.toml", `"forget me"`, `"forget me | pomogite"`}},
			want:  []string{`en.toml:14: keyword "pomogite" of command "erase" raises the alarm danger.help (lexicon ru): the safety net answers it, never the command`},
		},
		{
			name:  "keyword that raises the self-harm alarm",
			edits: []edit{{"locales/et.toml", `"unusta mind"`, `"unusta mind | want to die"`}},
			want:  []string{`et.toml:14: keyword "want to die" of command "erase" raises the alarm selfharm.die (lexicon en): the safety net answers it, never the command`},
		},
		{
			name:  "lexicon rule that catches a keyword",
			edits: []edit{{"safety/ru.toml", "помогите\n", "помогите\nзабудь меня\n"}},
			want:  []string{`ru.toml:14: keyword "забудь меня" of command "erase" raises the alarm danger.help (lexicon ru): the safety net answers it, never the command`},
		},
		{
			name:  "keyword that shares words with danger but raises no alarm",
			edits: []edit{{"locales/en.toml", `"menu | back"`, `"menu | back | help me choose"`}},
		},
		{
			name:  "plural message said without a count",
			edits: []edit{{"flows/menu.yaml", "{msg: menu.counted, count: n}", "menu.counted"}},
			want:  []string{`menu.yaml:12: warning: node "count": plural message "menu.counted" is said without a count: write {msg: menu.counted, count: variable}`},
		},
		{
			name:  "count for a message without plural forms",
			edits: []edit{{"flows/menu.yaml", "say: [menu.code_is]", "say: [{msg: menu.code_is, count: n}]"}},
			want:  []string{`menu.yaml:15: warning: node "code": message "menu.code_is" is given a count but has no plural forms`},
		},
		{
			name:  "message too long for SMS",
			edits: []edit{{"locales/et.toml", `hello = "Tere."`, `hello = "` + long + `"`}},
			want:  []string{`et.toml:23: warning: message "welcome.hello" takes 4 SMS segments in et (UCS-2): keep it to 3 or add a shorter welcome.hello.sms`},
		},
		{
			name:  "long message with a short SMS variant",
			edits: []edit{{"locales/et.toml", `hello = "Tere."`, `hello = "` + long + `"` + "\n" + `"hello.sms" = "Tere!"`}},
		},
		{
			name:  "SMS variant too long",
			edits: []edit{{"locales/et.toml", `hello = "Tere."`, `hello = "Tere."` + "\n" + `"hello.sms" = "` + long + `"`}},
			want:  []string{`et.toml:24: warning: message "welcome.hello.sms" takes 4 SMS segments in et (UCS-2): keep it to 3`},
		},
		{
			name:  "SMS variant with other placeholders",
			edits: []edit{{"locales/ru.toml", `code_is = "Ваш код {{.code}}."`, `code_is = "Ваш код {{.code}}."` + "\n" + `"code_is.sms" = "Код {{.cod}}"`}},
			want:  []string{`ru.toml:31: message "menu.code_is.sms": placeholders differ from English: lacks {{.code}} and has {{.cod}}, which English has not`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, cat, flows, det := load(t, tt.edits...)
			got := Check(set, cat, Options{SameAsEnglish: tt.same, Flows: flows, Safety: det})
			var lines []string
			for _, f := range got {
				lines = append(lines, f.String())
			}
			if strings.Join(lines, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
			wantErr := slices.ContainsFunc(tt.want, func(s string) bool { return !strings.Contains(s, ": warning: ") })
			if HasErrors(got) != wantErr {
				t.Errorf("HasErrors = %v, want %v", HasErrors(got), wantErr)
			}
		})
	}
}

// TestCheckWithoutSafety: without a detector, lint cannot tell which
// keywords raise the alarm, and says nothing of them.
func TestCheckWithoutSafety(t *testing.T) {
	set, cat, flows, _ := load(t, edit{"locales/en.toml", `"menu | back"`, `"menu | back | help me"`})
	if got := Check(set, cat, Options{Flows: flows}); len(got) > 0 {
		t.Errorf("findings without a detector: %v", got)
	}
}

func TestFindingString(t *testing.T) {
	for f, want := range map[Finding]string{
		{File: "menu.yaml", Line: 3, Msg: "node \"x\": bad"}:           `menu.yaml:3: node "x": bad`,
		{File: "et.toml", Line: 9, Severity: Warning, Msg: "too long"}: "et.toml:9: warning: too long",
		{File: "flows", Msg: "no commands.yaml"}:                       "flows: no commands.yaml",
		{File: "ru.toml", Severity: Warning, Msg: "the file is empty"}: "ru.toml: warning: the file is empty",
	} {
		if got := f.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}

// TestReviewIsStated: a locale that does not say whether a native speaker
// reviewed it is an error; the fallback language needs no such line.
func TestReviewIsStated(t *testing.T) {
	set, cat, flows, _ := load(t, edit{"locales/et.toml", " # test content, not reviewed by a native speaker", ""})
	var found bool
	for _, f := range Check(set, cat, Options{Flows: flows}) {
		if f.Severity == Error && strings.Contains(f.Msg, "says nothing of review") {
			found = found || strings.Contains(f.File, "et.toml")
			if strings.Contains(f.File, "en.toml") || strings.Contains(f.File, "ru.toml") {
				t.Errorf("a locale that states its review is reported: %v", f)
			}
		}
	}
	if !found {
		t.Error("a locale that says nothing of review is not reported")
	}
}
