// Package lang loads the helpline's messages with go-i18n and negotiates the
// language a person is answered in.
package lang

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Fallback is the language every other language falls back to. Its locale
// file must be complete.
const Fallback = "en"

// Catalog holds every message of every shipped language.
type Catalog struct {
	bundle  *i18n.Bundle
	langs   []string // language codes, Fallback first
	matcher language.Matcher
	// plain holds messages with no template and no plural forms, by language
	// then ID: most messages, served without go-i18n's machinery.
	plain      map[string]map[string]string
	messages   map[string]map[string]*i18n.Message
	localizers map[string]*i18n.Localizer
	files      map[string]File
}

// File is one locale file as it was read, for lint.
type File struct {
	Path string
	Lang string
	Src  []byte
}

// Load reads every *.toml file at the top of fsys, one file per language,
// named by its language code (en.toml, et.toml). The Fallback language must
// be among them.
func Load(fsys fs.FS) (*Catalog, error) {
	names, err := fs.Glob(fsys, "*.toml")
	if err != nil {
		return nil, fmt.Errorf("list locales: %w", err)
	}
	c := &Catalog{
		bundle:     i18n.NewBundle(language.English),
		plain:      map[string]map[string]string{},
		messages:   map[string]map[string]*i18n.Message{},
		localizers: map[string]*i18n.Localizer{},
		files:      map[string]File{},
	}
	c.bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	for _, name := range names {
		if err := c.loadFile(fsys, name); err != nil {
			return nil, err
		}
	}
	if _, ok := c.messages[Fallback]; !ok {
		return nil, fmt.Errorf("load locales: no %s.toml: every language falls back to it", Fallback)
	}
	slices.Sort(c.langs)
	c.langs = slices.DeleteFunc(c.langs, func(s string) bool { return s == Fallback })
	c.langs = slices.Insert(c.langs, 0, Fallback)
	tags := make([]language.Tag, len(c.langs))
	for i, l := range c.langs {
		tags[i] = language.Make(l)
		c.localizers[l] = i18n.NewLocalizer(c.bundle, l)
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

func (c *Catalog) loadFile(fsys fs.FS, name string) error {
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("read locale %s: %w", name, err)
	}
	code := strings.TrimSuffix(path.Base(name), ".toml")
	tag, err := language.Parse(code)
	if err != nil || tag.String() != code {
		return fmt.Errorf("locale %s: the file name must be a language code such as en.toml", name)
	}
	mf, err := c.bundle.ParseMessageFileBytes(src, name)
	if err != nil {
		return fmt.Errorf("locale %s: %w", name, err)
	}
	c.langs = append(c.langs, code)
	c.files[code] = File{Path: name, Lang: code, Src: src}
	c.messages[code] = map[string]*i18n.Message{}
	c.plain[code] = map[string]string{}
	for _, m := range mf.Messages {
		c.messages[code][m.ID] = m
		if !strings.Contains(m.Other, "{{") && m.Zero+m.One+m.Two+m.Few+m.Many == "" {
			c.plain[code][m.ID] = m.Other
		}
	}
	return nil
}

// Languages returns the codes of the shipped languages, Fallback first.
func (c *Catalog) Languages() []string { return c.langs }

// Has reports whether lang has its own message id (no fallback).
func (c *Catalog) Has(lang, id string) bool {
	_, ok := c.messages[lang][id]
	return ok
}

// Message returns lang's own message id, or nil.
func (c *Catalog) Message(lang, id string) *i18n.Message { return c.messages[lang][id] }

// IDs returns the IDs of lang's messages, sorted.
func (c *Catalog) IDs(lang string) []string {
	ids := make([]string, 0, len(c.messages[lang]))
	for id := range c.messages[lang] {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// File returns lang's locale file as it was read.
func (c *Catalog) File(lang string) File { return c.files[lang] }

// Text renders message id in lang with the variables vars. count, when not
// nil, chooses the plural form and is available to the template as .Count.
// A message missing in lang falls back to the Fallback language; ok is false
// then, so the caller can report the miss. A message missing everywhere
// renders as its ID.
func (c *Catalog) Text(lang, id string, vars map[string]string, count *int) (text string, ok bool) {
	if s, found := c.plain[lang][id]; found {
		return s, true
	}
	ok = c.Has(lang, id)
	if !ok {
		lang = Fallback
		if s, found := c.plain[lang][id]; found {
			return s, false
		}
		if !c.Has(lang, id) {
			return id, false
		}
	}
	data := make(map[string]any, len(vars)+1)
	for k, v := range vars {
		data[k] = v
	}
	lc := &i18n.LocalizeConfig{MessageID: id, TemplateData: data}
	if count != nil {
		data["Count"] = *count
		lc.PluralCount = *count
	}
	s, err := c.localizers[lang].Localize(lc)
	if err != nil && s == "" {
		return id, false
	}
	return s, ok && err == nil
}

// aliases name the shipped language that speakers of a language that is
// not shipped read as their own: Bosnian, Croatian and Montenegrin readers
// read Serbian in Latin script; Moldovan is Romanian.
var aliases = map[string]string{"hr": "sr", "bs": "sr", "cnr": "sr", "sh": "sr", "mo": "ro"}

// scripts names the script a shipped locale is written in where it is not
// its language's usual one: the Serbian locale is in Latin letters, though
// "sr" alone means Cyrillic to CLDR.
var scripts = map[string]string{"sr": "Latn"}

// Tag returns the language tag of the shipped locale code with the script it
// is written in: sr-Latn for sr. Names of languages and countries shown to a
// reader of that locale are drawn for this tag, so that a Serbian page does
// not name Germany in Cyrillic.
func Tag(code string) language.Tag {
	if s, ok := scripts[code]; ok {
		return language.Make(code + "-" + s)
	}
	return language.Make(code)
}

// alias returns the tag of the shipped language t's speakers read, or t. A
// tag in any script of a language shipped in one script reads that locale:
// a browser set to sr-Latn-RS, or to sr-Cyrl, reads the Serbian file.
func (c *Catalog) alias(t language.Tag) language.Tag {
	base, _ := t.Base()
	to, ok := aliases[base.String()]
	if !ok {
		if _, one := scripts[base.String()]; one {
			if _, shipped := c.messages[base.String()]; shipped {
				return language.Make(base.String())
			}
		}
		return t
	}
	if _, shipped := c.messages[to]; !shipped {
		return t
	}
	return language.Make(to)
}

// Match negotiates a shipped language from hints (language codes or
// Accept-Language values, best first). It answers only on high confidence:
// a Russian speaker is not answered in Serbian because Serbian is shipped and
// Russian is not. ok is false when no hint matched well enough.
func (c *Catalog) Match(hints ...string) (code string, ok bool) {
	var tags []language.Tag
	for _, h := range hints {
		if t, _, err := language.ParseAcceptLanguage(h); err == nil {
			for _, tag := range t {
				tags = append(tags, c.alias(tag))
			}
		}
	}
	if len(tags) == 0 {
		return Fallback, false
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf < language.High {
		return Fallback, false
	}
	return c.langs[i], true
}
