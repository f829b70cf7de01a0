package webchat

import (
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/helpline/helpline/bot"
)

//go:embed assets
var assets embed.FS

var pageTemplate = template.Must(template.ParseFS(assets, "assets/page.html"))

// pageWords are the page's own words: the name the page knows each by, and
// its message ID in the locales. The confirmation of Forget me is the
// erase flow's own, asked in the page.
var pageWords = [][2]string{
	{"title", "web.title"}, {"placeholder", "web.placeholder"}, {"send", "web.send"},
	{"exit", "web.exit"}, {"exit_hint", "web.exit_hint"}, {"offline", "web.offline"},
	{"failed", "web.failed"}, {"note", "webchat.note"}, {"counsellor", "webchat.counsellor"},
	{"progress", "webchat.progress"}, {"keep_open", "webchat.keep_open"}, {"language", "menu.language"},
	{"forget_confirm", "erase.confirm"}, {"forget_yes", "erase.yes"}, {"forget_no", "erase.no"},
}

// progressVars leave the places of "3 of 7" for the page to fill.
var progressVars = map[string]string{"n": "{n}", "total": "{total}"}

type pageData struct {
	Lang     string
	Words    map[string]string
	Greeting wireReply
	// Grid sets the greeting's many short choices two to a row, as the
	// script does for the replies like it.
	Grid   bool
	Langs  []language
	Config template.JS
}

// language is one choice of the page's language switch.
type language struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// page serves the chat page in the language the browser asks for. It
// greets at once: the welcome's first question is part of the page,
// rendered by the engine without a session, and its buttons send the
// person's first message. Nothing is stored and no token is made until the
// person taps or writes, so a crawler's or a passer-by's page view costs
// no state.
func (c *Chat) page(w http.ResponseWriter, r *http.Request) {
	lang, _ := c.words.Match(r.Header.Get("Accept-Language"))
	words := c.pageWords(lang)
	greeting := wire(c.greeter.Greeting(lang))
	langs := c.languages()
	cfg, err := json.Marshal(map[string]any{"exit": c.opts.ExitURL, "lang": lang, "words": words})
	if err != nil {
		http.Error(w, "page", http.StatusInternalServerError)
		return
	}
	secure(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", lang)
	pageTemplate.Execute(w, pageData{Lang: lang, Words: words, Greeting: greeting, Grid: grid(greeting.Choices), Langs: langs, Config: template.JS(cfg)})
}

// wordsJSON serves the page's words in another language, for a page whose
// person switched to it.
func (c *Chat) wordsJSON(w http.ResponseWriter, r *http.Request) {
	lang := r.URL.Query().Get("lang")
	if !slices.Contains(c.words.Languages(), lang) {
		http.Error(w, "unknown language", http.StatusNotFound)
		return
	}
	secure(w.Header())
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(c.pageWords(lang))
}

func (c *Chat) pageWords(lang string) map[string]string {
	words := make(map[string]string, len(pageWords))
	for _, k := range pageWords {
		var vars map[string]string
		if k[0] == "progress" {
			vars = progressVars
		}
		words[k[0]], _ = c.words.Text(lang, k[1], vars, nil)
	}
	return words
}

// languages lists the shipped languages, each by its own name.
func (c *Chat) languages() []language {
	var out []language
	for _, l := range c.words.Languages() {
		name, _ := c.words.Text(l, "language.name", nil, nil)
		out = append(out, language{l, name})
	}
	return out
}

// wireReply is a reply as the page reads it.
type wireReply struct {
	Text    string       `json:"t"`
	Choices []wireChoice `json:"c,omitempty"`
	Lang    string       `json:"lang,omitempty"`
	// From is "counsellor" for a counsellor's message, empty for the bot's.
	From string `json:"from,omitempty"`
	// Case is "waiting" or "held" while the person has a case.
	Case  string `json:"case,omitempty"`
	Step  int    `json:"step,omitempty"`
	Steps int    `json:"steps,omitempty"`
}

type wireChoice struct {
	ID    string `json:"i"`
	Label string `json:"l"`
	// Kind is "forget" for a choice that leads to forgetting the person
	// (the page confirms it itself), "erase" for one that forgets at once.
	Kind string `json:"k,omitempty"`
}

// grid reports whether choices are many and short: app.js has the same
// rule.
func grid(cs []wireChoice) bool {
	if len(cs) < 6 {
		return false
	}
	for _, c := range cs {
		if utf8.RuneCountInString(c.Label) > 16 || c.Kind != "" {
			return false
		}
	}
	return true
}

func wire(r bot.Reply) wireReply {
	out := wireReply{Text: r.Text, Lang: r.Lang, Step: r.Step, Steps: r.Steps}
	if r.From == bot.SpeakerCounsellor {
		out.From = "counsellor"
	}
	if r.Case != bot.NoCase {
		out.Case = r.Case.String()
	}
	for _, ch := range r.Choices {
		wc := wireChoice{ID: ch.ID, Label: ch.Label}
		switch ch.Kind {
		case bot.ChoiceForget:
			wc.Kind = "forget"
		case bot.ChoiceErase:
			wc.Kind = "erase"
		}
		out.Choices = append(out.Choices, wc)
	}
	return out
}

// asset serves the page's script and style.
func asset(name, contentType string) http.HandlerFunc {
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		panic(err) // embedded at build time: missing means a broken build
	}
	return func(w http.ResponseWriter, r *http.Request) {
		secure(w.Header())
		w.Header().Set("Content-Type", contentType)
		w.Write(b)
	}
}

// secure sets the headers every page of the chat carries: nothing from
// elsewhere, no referrer, nothing cached on a shared phone.
func secure(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}
