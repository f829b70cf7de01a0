// Package console is the counsellors' web console, served under /console:
// the live queue, a case with its intake card and transcript, the
// counsellor's own cases and, for supervisors, every active case, who is
// online and the statistics. Pages are rendered on the server from
// embedded templates, with a little plain JavaScript for live updates; no
// page ever shows a person's address.
package console

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/bot/store"
	"github.com/helpline/helpline/bot/streams"
)

// Store is what the console needs of the store.
type Store interface {
	Waiting(ctx context.Context) ([]bot.Case, error)
	HeldBy(ctx context.Context, name string) ([]bot.Case, error)
	Active(ctx context.Context) ([]bot.Case, error)
	GetAccount(ctx context.Context, name string) (store.Account, error)
	SaveLogin(ctx context.Context, tokenHash string, l store.ConsoleLogin) error
	Login(ctx context.Context, tokenHash string) (store.ConsoleLogin, bool, error)
	Logout(ctx context.Context, tokenHash string) error
	// Failures, Fail and ClearFailures count failed logins under a key
	// the console makes (a hash of the name, with or without the address).
	Failures(ctx context.Context, key string) (int, time.Time, error)
	Fail(ctx context.Context, key string, now time.Time) error
	ClearFailures(ctx context.Context, key string) error
	Seen(ctx context.Context, name string, now time.Time) error
	Online(ctx context.Context, since time.Time) (map[string]time.Time, error)
	Stats(ctx context.Context, day time.Time) (map[string]int64, error)
	ConsoleNotes(ctx context.Context) (<-chan string, func())
}

// Desk is what the console needs of the counsellor side of the runner.
type Desk interface {
	Claim(ctx context.Context, c bot.Counsellor, code string) error
	Reply(ctx context.Context, c bot.Counsellor, code, text, id string) error
	Transfer(ctx context.Context, c bot.Counsellor, code string, to *bot.Counsellor) error
	End(ctx context.Context, c bot.Counsellor, code, wrap, note string) error
	View(ctx context.Context, c bot.Counsellor, code string) (bot.CaseView, error)
	// Preview shows a waiting case, before the claim, to a counsellor who
	// may take it: its card, never its transcript.
	Preview(ctx context.Context, c bot.Counsellor, code string) (bot.CaseView, error)
	CanSee(c bot.Counsellor, qc bot.Case, now time.Time) (ok, interpreter bool)
}

// Words are the locales: canned answers come from them, in the person's
// language.
type Words interface {
	IDs(lang string) []string
	Text(lang, id string, vars map[string]string, count *int) (string, bool)
}

// Options tune the console.
type Options struct {
	// WrapUp lists the wrap-up categories a case ends with.
	WrapUp []string
	// Secure marks cookies Secure; set it behind TLS. A request that came
	// over TLS gets Secure cookies anyway.
	Secure bool
	// MaxFailures is how many wrong passwords in a row a name may give
	// before each further try must wait, longer every time. Default 5.
	MaxFailures int
	// UI holds the console's own words in every language it speaks; nil
	// means the shipped ones (locales/console).
	UI *lang.Catalog
	// Fields are the intake card's fields in the flows' order; a card's
	// other answers follow, by name.
	Fields []flow.Field
}

// DefaultWrapUp are the wrap-up categories when none are configured.
var DefaultWrapUp = []string{"information", "referral_shelter", "legal", "medical", "return_assistance", "emergency_services", "silent", "abusive"}

// Console serves the console.
type Console struct {
	st    Store
	desk  Desk
	words Words
	log   *slog.Logger
	opts  Options
	ui    *lang.Catalog
	now   func() time.Time
	pages map[string]*template.Template
	ips   *ipLimiter
	// hashing holds a slot per password check running.
	hashing chan struct{}

	mu      sync.Mutex
	streams map[chan string]struct{}
	// open bounds the event streams per login and per network address.
	open *streams.Limits
}

// Streams one login, and one network address, may hold open.
const (
	streamsPerLogin = 4
	streamsPerIP    = 50
)

//go:embed templates assets
var files embed.FS

// New makes the console.
func New(st Store, desk Desk, words Words, log *slog.Logger, now func() time.Time, opts Options) *Console {
	if len(opts.WrapUp) == 0 {
		opts.WrapUp = DefaultWrapUp
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 5
	}
	ui := opts.UI
	if ui == nil {
		ui = uiCatalog()
	}
	return &Console{
		st: st, desk: desk, words: words, log: log, opts: opts, now: now, ui: ui,
		pages: parsePages(), ips: newIPLimiter(), streams: map[chan string]struct{}{},
		open:    streams.New(streamsPerLogin, streamsPerIP),
		hashing: make(chan struct{}, hashers),
	}
}

// Routes adds every route of the console to mux. Pages need a login;
// every POST also needs the login's CSRF token, and comes from this origin.
func (c *Console) Routes(mux *http.ServeMux) {
	m := http.NewServeMux()
	m.HandleFunc("GET /console/login", c.loginPage)
	m.HandleFunc("POST /console/login", c.login)
	m.Handle("GET /console/assets/", http.StripPrefix("/console/", http.FileServerFS(files)))

	m.Handle("POST /console/logout", c.user(c.logout))
	m.Handle("GET /console/{$}", c.user(c.queueList))
	m.Handle("GET /console/queue", c.user(c.queueRows))
	m.Handle("GET /console/events", c.user(c.events))
	m.Handle("GET /console/mine", c.user(c.myCases))
	m.Handle("GET /console/case/{code}", c.user(c.caseView))
	m.Handle("GET /console/case/{code}/lines", c.user(c.caseLines))
	m.Handle("GET /console/case/{code}/preview", c.user(c.casePreview))
	m.Handle("POST /console/case/{code}/claim", c.user(c.caseClaim))
	m.Handle("POST /console/case/{code}/reply", c.user(c.caseReply))
	m.Handle("POST /console/case/{code}/transfer", c.user(c.caseTransfer))
	m.Handle("POST /console/case/{code}/end", c.user(c.caseEnd))
	m.Handle("GET /console/active", c.supervisor(c.activeList))
	m.Handle("GET /console/online", c.supervisor(c.onlineList))
	m.Handle("GET /console/stats", c.supervisor(c.statsPage))
	m.Handle("GET /console/stats.csv", c.supervisor(c.statsCSV))

	cop := http.NewCrossOriginProtection()
	mux.Handle("/console/", secure(cop.Handler(m)))
	mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
}

// secure sets the headers every console response carries: nothing from
// elsewhere, no framing, no referrer, nothing cached.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// parsePages parses each page with the layout: one template set per page.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"visible": visible,
		"clock":   func(t time.Time) string { return t.Format("15:04") },
		"ms":      func(t time.Time) int64 { return t.UnixMilli() },
		"who":     lineClass,
		"at": func(l loc, t time.Time) any {
			return struct {
				L  loc
				At time.Time
			}{l, t}
		},
		"counsellorName": func(w string) string {
			name, _ := strings.CutPrefix(w, "c:")
			return name
		},
		"int": func(n int64) int { return int(n) },
		"tally": func(l loc, title string, rows []tally, prefix string) any {
			return struct {
				L             loc
				Title, Prefix string
				Rows          []tally
			}{l, title, prefix, rows}
		},
	}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "parts" {
			continue
		}
		pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/parts.html", n))
	}
	return pages
}

// page is what every page template gets.
type page struct {
	// Title is the page's title, already in the counsellor's language.
	Title string
	User  *user
	CSRF  string
	// Msg is the ID of a note to show, in the console's locales.
	Msg  string
	Data any
	// L speaks the counsellor's language; render sets it.
	L loc
}

// render writes a whole page, or one of its blocks when block is set, in
// the language of the request's counsellor.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name, block string, p page) {
	p.L = c.locFor(r, p.User)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.L.Lang)
	w.WriteHeader(status)
	t := c.pages[name]
	if block == "" {
		block = "layout"
	}
	if err := t.ExecuteTemplate(w, block, p); err != nil {
		c.log.Error("console page failed", "page", name, "err", err)
	}
}

// note is the locale ID of the note a redirect's ?msg= names, or "".
func note(r *http.Request) string {
	m := r.URL.Query().Get("msg")
	if slices.Contains(notes, m) {
		return "msg." + m
	}
	return ""
}

// notes are the notes a redirect may carry in ?msg=.
var notes = []string{"taken", "full", "language", "ended", "moved", "gone", "notyours"}

// lineClass is the CSS class of a transcript line by its writer.
func lineClass(who string) string {
	switch who {
	case "p":
		return "person"
	case "s":
		return "system"
	}
	return "counsellor"
}

// visible shows what a person wrote so that it cannot pass for something
// else on the page: a new line shows as ⏎ before the break, so that it
// cannot start what looks like another line of the transcript, and a
// direction override or isolate (which could reverse the words around it)
// and every other control character show as their code point, [U+202E]. The template isolates the
// text's direction with <bdi> as well.
func visible(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString("\u23ce\n") // ⏎: the next line is the same message
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\u200b', r == '\ufeff':
			fmt.Fprintf(&b, "[U+%04X]", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
