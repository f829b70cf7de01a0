package safety

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// minStem is the fewest letters a stem may have once folded: a shorter one
// would match too many words.
const minStem = 3

// lexicon is one language's file as written.
type lexicon struct {
	Words    map[string]string `toml:"words"`
	Danger   map[string]string `toml:"danger"`
	SelfHarm map[string]string `toml:"selfharm"`
	Not      map[string]string `toml:"not"`
}

// Load reads every *.toml file at the top of fsys, one lexicon per language
// named by its code (en.toml, et.toml), and compiles them into one detector.
// It reports every mistake it finds, each with its file, section and line.
func Load(fsys fs.FS) (*Detector, error) {
	names, err := fs.Glob(fsys, "*.toml")
	if err != nil {
		return nil, fmt.Errorf("list safety lexicons: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("no safety lexicons: a helpline that cannot notice danger must not run")
	}
	c := newCompiler()
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read safety lexicon %s: %w", name, err)
		}
		c.file(strings.TrimSuffix(path.Base(name), ".toml"), name, src)
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	return c.d, nil
}

// compiler turns lexicons into a detector.
type compiler struct {
	d    *Detector
	errs []error
	// per file
	name  string
	lang  string
	lists map[string][][]item
}

func newCompiler() *compiler {
	d := &Detector{
		ids:      map[pattern]int32{},
		words:    map[string][]int32{},
		deleted:  map[string][]int32{},
		stems:    map[string][]int32{},
		patterns: []pattern{{key: boundary}},
		anchors:  [][]anchor{nil},
	}
	return &compiler{d: d}
}

func (c *compiler) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: "+format, append([]any{c.name}, args...)...))
}

// file compiles one language's lexicon.
func (c *compiler) file(lang, name string, src []byte) {
	c.name, c.lang, c.lists = name, lang, map[string][][]item{}
	var lx lexicon
	md, err := toml.Decode(string(src), &lx)
	if err != nil {
		c.errorf("%v", err)
		return
	}
	for _, k := range md.Undecoded() {
		c.errorf("unknown key %s: a lexicon has [words], [danger], [selfharm] and [not]", k)
	}
	c.d.langs = append(c.d.langs, lang)
	slices.Sort(c.d.langs)
	for _, key := range sortedKeys(lx.Words) {
		var alts [][]item
		for _, entry := range strings.Split(lx.Words[key], "|") {
			if entry = strings.TrimSpace(entry); entry == "" {
				continue
			}
			seq, err := c.sequence(entry, false)
			if err != nil {
				c.errorf("[words] %s, %q: %v", key, entry, err)
				continue
			}
			alts = append(alts, seq)
		}
		if len(alts) == 0 {
			c.errorf("[words] %s is empty", key)
		}
		c.lists[key] = alts
	}
	c.section(danger, lx.Danger)
	c.section(selfHarm, lx.SelfHarm)
	c.section(not, lx.Not)
}

// section compiles the rules of one section, a rule per line.
func (c *compiler) section(k kind, rules map[string]string) {
	for _, key := range sortedKeys(rules) {
		for n, line := range strings.Split(rules[key], "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			r := rule{kind: k, name: k.String() + "." + key, lang: c.lang}
			for _, p := range strings.Split(line, "&") {
				seq, err := c.sequence(strings.TrimSpace(p), true)
				if err == nil && !required(seq) {
					err = errors.New("every part needs a word that is not optional")
				}
				if err != nil {
					c.errorf("[%s] %s, line %d: %v", sectionName(k), key, n+1, err)
					r.parts = nil
					break
				}
				r.parts = append(r.parts, seq)
			}
			if k == not && len(r.parts) > 1 {
				c.errorf("[not] %s, line %d: a not rule is one part, without &", key, n+1)
				continue
			}
			if r.parts != nil {
				c.add(r)
			}
		}
	}
}

func sectionName(k kind) string { return k.String() }

func required(seq []item) bool {
	return slices.ContainsFunc(seq, func(it item) bool { return !it.optional })
}

// add keeps a rule and anchors each of its parts at the patterns it can
// start with.
func (c *compiler) add(r rule) {
	id := int32(len(c.d.rules))
	c.d.rules = append(c.d.rules, r)
	for p, seq := range r.parts {
		for _, pat := range first(seq, nil) {
			a := anchor{id, int32(p)}
			if !slices.Contains(c.d.anchors[pat], a) {
				c.d.anchors[pat] = append(c.d.anchors[pat], a)
			}
		}
	}
}

// first lists the patterns a sequence can start with.
func first(seq []item, out []int32) []int32 {
	for _, it := range seq {
		if it.alts == nil {
			out = append(out, it.pat)
		} else {
			for _, alt := range it.alts {
				out = first(alt, out)
			}
		}
		if !it.optional {
			break
		}
	}
	return out
}

// sequence compiles words separated by spaces: word, word*, =word, ?word,
// {list} and $. Lists may be used in rules only.
func (c *compiler) sequence(src string, inRule bool) ([]item, error) {
	var seq []item
	for _, tok := range strings.Fields(src) {
		optional := strings.HasPrefix(tok, "?")
		tok = strings.TrimPrefix(tok, "?")
		switch {
		case tok == "":
			return nil, errors.New("? stands before a word")
		case tok == "$":
			seq = append(seq, item{pat: boundaryID, optional: optional})
		case strings.HasPrefix(tok, "{"):
			if !inRule {
				return nil, fmt.Errorf("%s: a list cannot hold another list", tok)
			}
			name, ok := strings.CutSuffix(tok[1:], "}")
			alts, known := c.lists[name]
			if !ok || !known {
				return nil, fmt.Errorf("%s: no such list in [words]", tok)
			}
			seq = append(seq, item{pat: -1, alts: alts, optional: optional})
		default:
			items, err := c.word(tok)
			if err != nil {
				return nil, err
			}
			if optional && len(items) == 1 {
				items[0].optional = true
			} else if optional {
				items = []item{{pat: -1, alts: [][]item{items}, optional: true}}
			}
			seq = append(seq, items...)
		}
	}
	if len(seq) == 0 {
		return nil, errors.New("no words")
	}
	return seq, nil
}

// word compiles one written word: it may fold to several (e-mail is e
// mail), of which only the last may be a stem.
func (c *compiler) word(tok string) ([]item, error) {
	exact := strings.HasPrefix(tok, "=")
	tok = strings.TrimPrefix(tok, "=")
	stem := strings.HasSuffix(tok, "*")
	tok = strings.TrimSuffix(tok, "*")
	if strings.ContainsAny(tok, "*={}?&$") {
		return nil, fmt.Errorf("%q: * ends a word, = and ? start one", tok)
	}
	buf, toks := tokenize(tok, nil, nil)
	var items []item
	for _, t := range toks {
		if t.from < 0 {
			continue
		}
		items = append(items, item{pat: c.intern(pattern{key: string(buf[t.from:t.to]), exact: exact})})
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%q has no letters", tok)
	}
	if stem {
		last := &items[len(items)-1]
		p := c.d.patterns[last.pat]
		if len(p.key) < minStem {
			return nil, fmt.Errorf("%s*: a stem needs at least %d letters", tok, minStem)
		}
		p.stem = true
		last.pat = c.intern(p)
	}
	return items, nil
}

// intern returns the ID of p, indexing a new pattern for lookup.
func (c *compiler) intern(p pattern) int32 {
	if id, ok := c.d.ids[p]; ok {
		return id
	}
	id := int32(len(c.d.patterns))
	c.d.patterns = append(c.d.patterns, p)
	c.d.anchors = append(c.d.anchors, nil)
	c.d.ids[p] = id
	switch {
	case p.stem:
		c.d.stems[p.key[:2]] = append(c.d.stems[p.key[:2]], id)
	default:
		c.d.words[p.key] = append(c.d.words[p.key], id)
		if p.typo() {
			for i := range p.key {
				v := p.key[:i] + p.key[i+1:]
				if !slices.Contains(c.d.deleted[v], id) {
					c.d.deleted[v] = append(c.d.deleted[v], id)
				}
			}
		}
	}
	return id
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
