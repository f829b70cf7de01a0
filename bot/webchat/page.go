package webchat

import (
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
)

//go:embed assets
var assets embed.FS

var pageTemplate = template.Must(template.ParseFS(assets, "assets/page.html"))

// pageWords are the page's own words, message IDs web.<key> in the locales.
var pageWords = []string{"title", "intro", "placeholder", "send", "exit", "exit_hint", "offline", "failed"}

type pageData struct {
	Lang   string
	Words  map[string]string
	Config template.JS
}

// page serves the chat page in the language the browser asks for.
func (c *Chat) page(w http.ResponseWriter, r *http.Request) {
	lang, _ := c.words.Match(r.Header.Get("Accept-Language"))
	words := make(map[string]string, len(pageWords))
	for _, k := range pageWords {
		words[k], _ = c.words.Text(lang, "web."+k, nil, nil)
	}
	cfg, err := json.Marshal(map[string]any{"exit": c.opts.ExitURL, "words": words})
	if err != nil {
		http.Error(w, "page", http.StatusInternalServerError)
		return
	}
	secure(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", lang)
	pageTemplate.Execute(w, pageData{Lang: lang, Words: words, Config: template.JS(cfg)})
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
