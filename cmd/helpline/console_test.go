package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/bot/secret"
	"github.com/helpline/helpline/bot/webchat"
	"github.com/helpline/helpline/locales"
)

// newCounsellor runs `helpline counsellor add` with the password on stdin
// and returns the password.
func newCounsellor(t *testing.T, redisURL, name string, flags ...string) string {
	t.Helper()
	password := "correct horse battery " + name
	env := map[string]string{"HELPLINE_REDIS_URL": redisURL}
	var out strings.Builder
	args := append([]string{"counsellor", "add", name}, flags...)
	if err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(password+"\n"), &out, io.Discard); err != nil {
		t.Fatalf("counsellor add %s: %v", name, err)
	}
	if strings.Contains(out.String(), password) {
		t.Fatal("the password was printed")
	}
	return password
}

// browser is a console client: a cookie jar, no redirects followed.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(path string) (int, string, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

func (b *browser) login(name, password string) int {
	b.t.Helper()
	code, _ := b.post("/console/login", url.Values{"name": {name}, "password": {password}})
	if code == http.StatusSeeOther {
		b.get("/console/")
	}
	return code
}

// askForCounsellor walks a web chat person from hello to a handoff.
func askForCounsellor(t *testing.T, p *webPerson, en func(string) string) {
	t.Helper()
	p.say("hello")
	p.tap("English")
	p.tap(en("welcome.safe_yes"))
	p.tap(en("menu.counsellor"))
	p.tap(en("counsellor.no_questions"))
}

// toIntake walks a web chat person from hello to the intake's first
// question, the needs.
func toIntake(t *testing.T, p *webPerson, en func(string) string) {
	t.Helper()
	p.say("hello")
	p.tap("English")
	p.tap(en("welcome.safe_yes"))
	p.tap(en("menu.counsellor"))
	p.tap(en("counsellor.go"))
}

// unsafeCase walks a web chat person through the intake to an urgent case:
// a safe place to stay, not safe now, age and own words skipped.
func unsafeCase(t *testing.T, p *webPerson, en func(string) string) {
	t.Helper()
	toIntake(t, p, en)
	p.tap(en("intake.stay"))
	p.tap(en("common.done"))
	p.say("no")
	p.tap(en("common.skip_question"))
	p.tap(en("common.skip_question"))
}

func enText(t *testing.T) func(string) string {
	cat, err := lang.Load(locales.FS())
	if err != nil {
		t.Fatal(err)
	}
	return func(id string) string { s, _ := cat.Text("en", id, nil, nil); return s }
}

var claimForm = regexp.MustCompile(`action="/console/case/([A-Z0-9-]+)/claim"`)

// TestConsoleSecurity: pages need a login, a POST needs the CSRF token, a
// counsellor cannot open or answer another's case, and wrong passwords
// are slowed down.
func TestConsoleSecurity(t *testing.T) {
	redisURL := "redis://" + redisServer.Addr + "/3"
	srv := startServer(t, map[string]string{"HELPLINE_REDIS_URL": redisURL, "HELPLINE_SECRET": testSecret})
	annaPW := newCounsellor(t, redisURL, "anna", "--langs", "en,et")
	olgaPW := newCounsellor(t, redisURL, "olga", "--langs", "en,ru")

	anon := newBrowser(t, srv.url)
	for _, path := range []string{"/console/", "/console/mine", "/console/stats", "/console/case/ABC-123"} {
		if code, loc, _ := anon.get(path); code != http.StatusSeeOther || loc != "/console/login" {
			t.Errorf("%s without a login: %d to %q, want a redirect to the login", path, code, loc)
		}
	}
	if code, _ := anon.post("/console/case/ABC-123/claim", nil); code != http.StatusUnauthorized {
		t.Errorf("a POST without a login: %d", code)
	}

	anna := newBrowser(t, srv.url)
	if code := anna.login("anna", annaPW); code != http.StatusSeeOther || anna.csrf == "" {
		t.Fatalf("anna's login: %d, csrf %q", code, anna.csrf)
	}
	p := newWebPerson(t, srv.url, webchat.NewToken(), "en")
	askForCounsellor(t, p, enText(t))
	var code string
	for deadline := time.Now().Add(10 * time.Second); code == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the case did not reach the queue")
		}
		_, _, body := anna.get("/console/queue")
		if m := claimForm.FindStringSubmatch(body); m != nil {
			code = m[1]
		}
	}
	if status, _ := anna.post("/console/case/"+code+"/claim", url.Values{}); status != http.StatusForbidden {
		t.Fatalf("a claim without the CSRF token: %d, want 403", status)
	}
	if status, _ := anna.post("/console/case/"+code+"/claim", url.Values{"csrf": {"forged"}}); status != http.StatusForbidden {
		t.Fatalf("a claim with a wrong CSRF token: %d, want 403", status)
	}
	if status, loc := anna.post("/console/case/"+code+"/claim", url.Values{"csrf": {anna.csrf}}); status != http.StatusSeeOther || loc != "/console/case/"+code {
		t.Fatalf("anna's claim: %d %q", status, loc)
	}
	if status, _, body := anna.get("/console/case/" + code); status != 200 || !strings.Contains(body, code) {
		t.Fatalf("anna opens her case: %d", status)
	}

	olga := newBrowser(t, srv.url)
	olga.login("olga", olgaPW)
	if status, _, _ := olga.get("/console/case/" + code); status != http.StatusForbidden {
		t.Fatalf("olga opens anna's case: %d, want 403", status)
	}
	if status, _ := olga.post("/console/case/"+code+"/reply", url.Values{"csrf": {olga.csrf}, "text": {"hi"}, "id": {"x1"}}); status != http.StatusForbidden {
		t.Fatalf("olga answers anna's case: %d, want 403", status)
	}
	if status, _ := olga.post("/console/case/"+code+"/end", url.Values{"csrf": {olga.csrf}, "wrap": {"silent"}}); status != http.StatusForbidden {
		t.Fatalf("olga ends anna's case: %d, want 403", status)
	}
	if status, _, _ := olga.get("/console/stats"); status != http.StatusForbidden {
		t.Fatalf("a counsellor opens the statistics: %d, want 403", status)
	}

	guess := newBrowser(t, srv.url)
	for i := range 5 {
		if status := guess.login("olga", "wrong password"); status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i, status)
		}
	}
	if status := guess.login("olga", olgaPW); status != http.StatusTooManyRequests {
		t.Fatalf("after five wrong passwords the right one is let in at once: %d, want 429", status)
	}
	if status, _ := olga.post("/console/logout", url.Values{"csrf": {olga.csrf}}); status != http.StatusSeeOther {
		t.Fatalf("logout: %d", status)
	}
	if status, _, _ := olga.get("/console/"); status != http.StatusSeeOther {
		t.Fatalf("after logout the queue still opens: %d", status)
	}

	pid := keysFor(t).PersonID(bot.Web, p.token)
	for _, s := range []string{p.token, "correct horse"} {
		if strings.Contains(srv.logs.String(), s) {
			t.Errorf("the logs contain %q", s)
		}
	}
	// A log outlives the case: it names the case by a keyed hash, and
	// never next to the person.
	if strings.Contains(srv.logs.String(), code) {
		t.Errorf("the logs hold the case code %s", code)
	}
	ref := keysFor(t).CaseRef(code)
	if !strings.Contains(srv.logs.String(), ref) {
		t.Errorf("the logs should name the case by its reference %s", ref)
	}
	for _, line := range strings.Split(srv.logs.String(), "\n") {
		if strings.Contains(line, ref) && strings.Contains(line, pid) {
			t.Errorf("a log line ties the case to the person: %s", line)
		}
	}
}

// TestDemoCounsellorIsPrintedOnce: the embedded default prints the demo
// counsellor's password, and it logs in.
func TestDemoCounsellorIsPrintedOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	env := map[string]string{"HELPLINE_ADDR": "127.0.0.1:0"}
	stdout := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), stdout, io.Discard)
	}()
	defer func() { cancel(); <-done }()
	demo := regexp.MustCompile(`name demo, password (\S+)`)
	base := regexp.MustCompile(`web chat on (http://\S+)/`)
	for deadline := time.Now().Add(20 * time.Second); !base.MatchString(stdout.String()); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no start: %s", stdout)
		}
	}
	m := demo.FindStringSubmatch(stdout.String())
	if m == nil || strings.Count(stdout.String(), "password") != 1 {
		t.Fatalf("the demo password, once: %q", stdout)
	}
	b := newBrowser(t, base.FindStringSubmatch(stdout.String())[1])
	if code := b.login("demo", m[1]); code != http.StatusSeeOther {
		t.Fatalf("demo login: %d", code)
	}
	if code, _, body := b.get("/console/stats"); code != 200 || !strings.Contains(body, "<svg") {
		t.Fatalf("the demo counsellor is a supervisor and sees the chart: %d", code)
	}
}

func keysFor(t *testing.T) *secret.Keys {
	k, err := secret.New([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
