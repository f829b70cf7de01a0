package safety

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

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
	// Typing names, per letter, how people type it in Latin letters
	// besides its transliteration: Bulgarian ъ as a, u or y.
	Typing map[string]string `toml:"typing"`
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
	c.finish()
	return c.d, nil
}

// finish indexes what lets Detect pass over a rule at once: the lists
// each pattern can begin an entry of, what words each list's entries need,
// and the words and lists each rule cannot match without.
func (c *compiler) finish() {
	d := c.d
	d.starts = make([][]int32, len(d.patterns))
	d.lists = make([]listNeeds, len(c.all)+1)
	for _, l := range c.all {
		l.anywhere = len(l.always) > 0
		for _, id := range l.one.appendTo(nil) {
			d.starts[id] = append(d.starts[id], l.id<<1|1)
		}
		for id := range l.byFirst {
			if !slices.Contains(d.starts[id], l.id<<1|1) {
				d.starts[id] = append(d.starts[id], l.id<<1)
			}
		}
		n := &d.lists[l.id]
		n.anywhere = l.anywhere
		for _, seq := range l.multi {
			need := d.needed(seq)
			n.needs = append(n.needs, need)
			n.free = n.free || len(need) == 0
		}
	}
	for i := range d.rules {
		r := &d.rules[i]
		var all []item
		for _, p := range r.parts {
			all = append(all, p.items...)
		}
		r.needWords = d.needed(all)
		for _, it := range all {
			if !it.optional && it.list != nil && !slices.Contains(r.needLists, it.list.id) {
				r.needLists = append(r.needLists, it.list.id)
			}
		}
	}
}

// needed lists the words a sequence cannot match without: its words that
// are neither optional nor $, the longest first, as the rarest.
func (d *Detector) needed(seq []item) []int32 {
	var out []int32
	for _, it := range seq {
		if !it.optional && it.list == nil && it.pat != boundaryID && !slices.Contains(out, it.pat) {
			out = append(out, it.pat)
		}
	}
	slices.SortStableFunc(out, func(a, b int32) int { return len(d.patterns[b].key) - len(d.patterns[a].key) })
	return out
}

// compiler turns lexicons into a detector.
type compiler struct {
	d    *Detector
	errs []error
	all  []*list // every list made, for finish
	// per file
	name  string
	lang  string
	lists map[string]*list
	bit   uint32 // the language's bit for its not rules' masks
	// words are the entries of each list as written; exact are the lists
	// compiled again with no typo forgiven, for [not] rules, when one
	// first uses them.
	words map[string]string
	exact map[string]*list
	// typing is the file's [typing]: the other Latin typings of a letter;
	// typed lists its letters in order.
	typing map[rune][]string
	typed  []rune
}

func newCompiler() *compiler {
	d := &Detector{
		ids:        map[pattern]int32{},
		keys:       map[string]keyed{},
		otherStems: map[string][]int32{},
		patterns:   []pattern{{key: boundary}},
		anchors:    [][]anchor{nil},
	}
	return &compiler{d: d}
}

func (c *compiler) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: "+format, append([]any{c.name}, args...)...))
}

// file compiles one language's lexicon.
func (c *compiler) file(lang, name string, src []byte) {
	c.name, c.lang, c.lists = name, lang, map[string]*list{}
	c.words, c.exact, c.typing, c.typed = map[string]string{}, map[string]*list{}, map[rune][]string{}, nil
	var lx lexicon
	md, err := toml.Decode(string(src), &lx)
	if err != nil {
		c.errorf("%v", err)
		return
	}
	for _, k := range md.Undecoded() {
		c.errorf("unknown key %s: a lexicon has [words], [danger], [selfharm], [not] and [typing]", k)
	}
	for _, letter := range sortedKeys(lx.Typing) {
		r := []rune(letter)
		if len(r) != 1 || !unicode.IsLetter(r[0]) || r[0] < utf8.RuneSelf {
			c.errorf("[typing] %q: a key is one letter that is not Latin", letter)
			continue
		}
		for _, t := range strings.Split(lx.Typing[letter], "|") {
			t = strings.TrimSpace(t)
			if t == "" || strings.ContainsFunc(t, func(r rune) bool { return !('a' <= r && r <= 'z' || '0' <= r && r <= '9') }) {
				c.errorf("[typing] %s: %q is not Latin letters", letter, t)
				continue
			}
			l := unicode.ToLower(r[0])
			if c.typing[l] == nil {
				c.typed = append(c.typed, l)
			}
			c.typing[l] = append(c.typing[l], t)
		}
	}
	if len(c.d.langs) == maxLanguages {
		c.errorf("more than %d languages", maxLanguages)
		return
	}
	c.bit = 1 << len(c.d.langs)
	c.d.langs = append(c.d.langs, lang)
	slices.Sort(c.d.langs)
	for _, key := range sortedKeys(lx.Words) {
		c.words[key] = lx.Words[key]
		c.lists[key] = c.list(key, false)
	}
	c.section(danger, lx.Danger)
	c.section(selfHarm, lx.SelfHarm)
	c.section(not, lx.Not)
}

// maxParts is how many parts & joins in one rule at most.
const maxParts = 8

// maxLanguages is how many lexicons a detector loads at most: a not rule's
// mask has a bit per language.
const maxLanguages = 32

// newList makes an empty list with the next number.
func (c *compiler) newList() *list {
	l := &list{id: int32(len(c.all) + 1)}
	c.all = append(c.all, l)
	return l
}

// list compiles the entries of [words] list key; exact forgives no typo
// in them.
func (c *compiler) list(key string, exact bool) *list {
	l := c.newList()
	n := 0
	for _, entry := range strings.Split(c.words[key], "|") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		for _, spelt := range spellings(entry) {
			seq, err := c.sequence(spelt, false, exact)
			if err != nil {
				if !exact { // reported once, for the list as written
					c.errorf("[words] %s, %q: %v", key, entry, err)
				}
				break
			}
			l.addEntry(seq)
		}
		n++
	}
	if n == 0 && !exact {
		c.errorf("[words] %s is empty", key)
	}
	return l
}

// section compiles the rules of one section, a rule per line.
func (c *compiler) section(k kind, rules map[string]string) {
	for _, key := range sortedKeys(rules) {
		for n, line := range strings.Split(rules[key], "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			for _, spelt := range spellings(line) {
				if !c.rule(k, key, n+1, spelt) {
					break
				}
			}
		}
	}
}

// rule compiles one line of a section, and reports whether it could.
func (c *compiler) rule(k kind, key string, line int, src string) bool {
	r := rule{kind: k, name: k.String() + "." + key, lang: c.lang, langBit: c.bit}
	for _, p := range strings.Split(src, "&") {
		// A not rule forgives no typo: one that did could excuse a danger
		// word misspelt into a harmless one.
		seq, err := c.sequence(strings.TrimSpace(p), true, k == not)
		if err == nil && !required(seq) {
			err = errors.New("every part needs a word that is not optional")
		}
		if err != nil {
			c.errorf("[%s] %s, line %d: %v", sectionName(k), key, line, err)
			return false
		}
		r.parts = append(r.parts, c.part(seq))
	}
	if len(r.parts) > maxParts {
		c.errorf("[%s] %s, line %d: %d parts joined by &, at most %d", sectionName(k), key, line, len(r.parts), maxParts)
		return false
	}
	if k == not && len(r.parts) > 1 {
		c.errorf("[not] %s, line %d: a not rule is one part, without &", key, line)
		return false
	}
	c.add(r)
	return true
}

// spellings returns the ways a lexicon entry is typed. Folding takes the
// marks off Latin letters, so š and č are s and c; but Cyrillic ш and ч are
// spelt sh and ch, as Russian, Ukrainian and Bulgarian are typed in Latin
// letters. A word written with š or č (Serbian, Lithuanian, Latvian) is
// therefore also compiled with sh and ch in their place, so that its
// Cyrillic spelling (šef, шеф) and a Latin one typed the Cyrillic way
// (shef) match it too. ž and ц need no second spelling: zh and ts fold to
// z and c.
func spellings(entry string) []string {
	if !strings.ContainsAny(entry, "šŠčČ") {
		return []string{entry}
	}
	return []string{entry, digraphs.Replace(entry)}
}

var digraphs = strings.NewReplacer("š", "sh", "Š", "sh", "č", "ch", "Č", "ch")

func sectionName(k kind) string { return k.String() }

func required(seq []item) bool {
	return slices.ContainsFunc(seq, func(it item) bool { return !it.optional && (it.list != nil || it.pat != boundaryID) })
}

// addEntry adds one entry to a list: a word to the set, several words to
// the sequences, indexed by their first word.
func (l *list) addEntry(seq []item) {
	if len(seq) == 1 && seq[0].list == nil && !seq[0].optional {
		l.one.add(seq[0].pat)
		return
	}
	k := int32(len(l.multi))
	l.multi = append(l.multi, seq)
	if first := seq[0]; first.list == nil && !first.optional {
		if l.byFirst == nil {
			l.byFirst = map[int32][]int32{}
		}
		l.byFirst[first.pat] = append(l.byFirst[first.pat], k)
		return
	}
	l.always = append(l.always, k)
}

// part makes a part of a sequence: its anchor is the required item whose
// words are rarest, judged by their length (me, he, $ are everywhere;
// passport and beat* are not).
func (c *compiler) part(seq []item) part {
	p := part{items: seq, anchor: -1}
	best := -1
	for i, it := range seq {
		if it.optional {
			continue
		}
		if sc := c.rarity(it); sc > best {
			best, p.anchor = sc, i
		}
	}
	p.back = lengths(seq[:p.anchor])
	return p
}

// rarity scores how rarely an item matches: the length of its shortest
// word.
func (c *compiler) rarity(it item) int {
	score := 1 << 30
	for _, id := range c.firsts(it, nil) {
		score = min(score, len(c.d.patterns[id].key))
	}
	if score == 1<<30 || (it.list == nil && it.pat == boundaryID) {
		return 0
	}
	return score
}

// firsts lists the patterns an item can start with.
func (c *compiler) firsts(it item, out []int32) []int32 {
	if it.list == nil {
		return append(out, it.pat)
	}
	out = it.list.one.appendTo(out)
	for _, alt := range it.list.multi {
		for _, a := range alt {
			out = c.firsts(a, out)
			if !a.optional {
				break
			}
		}
	}
	return out
}

// lengths lists how many words a sequence can take, at most 16.
func lengths(seq []item) []int {
	out := []int{0}
	for _, it := range seq {
		var next []int
		for _, n := range out {
			for _, m := range itemLengths(it) {
				if n+m <= 16 && !slices.Contains(next, n+m) {
					next = append(next, n+m)
				}
			}
		}
		out = next
	}
	return out
}

func itemLengths(it item) []int {
	var out []int
	if it.optional {
		out = append(out, 0)
	}
	if it.list == nil || len(it.list.one) > 0 {
		out = append(out, 1)
	}
	if it.list != nil {
		for _, alt := range it.list.multi {
			for _, n := range lengths(alt) {
				if !slices.Contains(out, n) {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

// add keeps a rule, picks its primary part (the one with the rarest
// anchor) and anchors it at the patterns its anchor item can start with.
func (c *compiler) add(r rule) {
	id := int32(len(c.d.rules))
	best := -1
	for i, p := range r.parts {
		if sc := c.rarity(p.items[p.anchor]); sc > best {
			best, r.primary = sc, i
		}
	}
	c.d.rules = append(c.d.rules, r)
	p := r.parts[r.primary]
	for _, pat := range c.firsts(p.items[p.anchor], nil) {
		if a := (anchor{id}); !slices.Contains(c.d.anchors[pat], a) {
			c.d.anchors[pat] = append(c.d.anchors[pat], a)
		}
	}
}

// sequence compiles words separated by spaces: word, word*, =word, ?word,
// {list} and $. Lists may be used in rules only.
func (c *compiler) sequence(src string, inRule, exact bool) ([]item, error) {
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
			l, known := c.lists[name]
			if !ok || !known {
				return nil, fmt.Errorf("%s: no such list in [words]", tok)
			}
			if exact {
				if c.exact[name] == nil {
					c.exact[name] = c.list(name, true)
				}
				l = c.exact[name]
			}
			seq = append(seq, item{pat: -1, list: l, optional: optional})
		default:
			if exact && !strings.HasPrefix(tok, "=") {
				tok = "=" + tok
			}
			items, err := c.word(tok)
			if err != nil {
				return nil, err
			}
			if optional && len(items) == 1 {
				items[0].optional = true
			} else if optional {
				l := c.newList()
				l.addEntry(items)
				items = []item{{pat: -1, list: l, optional: true}}
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
	if len(items) == 1 {
		items = c.typings(tok, items[0], stem)
	}
	return items, nil
}

// typings makes the item of a one-word tok match the other ways its
// letters are typed ([typing]): Bulgarian "дълг" is also dalg, dulg and
// dylg. Each letter is typed one way through the word. It returns base
// alone when there is no other typing.
func (c *compiler) typings(tok string, base item, stem bool) []item {
	forms := []string{tok}
	for _, r := range c.typed {
		if !strings.ContainsFunc(tok, func(x rune) bool { return unicode.ToLower(x) == r }) {
			continue
		}
		for _, f := range forms {
			for _, a := range c.typing[r] {
				var b strings.Builder
				for _, x := range f {
					if unicode.ToLower(x) == r {
						b.WriteString(a)
					} else {
						b.WriteRune(x)
					}
				}
				forms = append(forms, b.String())
			}
		}
	}
	ids := []int32{base.pat}
	for _, f := range forms[1:] {
		buf, toks := tokenize(f, nil, nil)
		var words []span
		for _, t := range toks {
			if t.from >= 0 {
				words = append(words, t)
			}
		}
		if len(words) != 1 { // the typing split the word
			continue
		}
		// A typing forgives no typo: one letter typed another way
		// already stands where a typo would, and "vyrza" forgiving one
		// more would reach viza.
		p := pattern{key: string(buf[words[0].from:words[0].to]), exact: true, stem: stem}
		if id := c.intern(p); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 1 {
		return []item{base}
	}
	l := c.newList()
	for _, id := range ids {
		l.one.add(id)
	}
	return []item{{pat: -1, list: l}}
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
		if a, b := alnum(p.key[0]), alnum(p.key[1]); a >= 0 && b >= 0 {
			c.d.stems[a*36+b] = append(c.d.stems[a*36+b], id)
		} else {
			c.d.otherStems[p.key[:2]] = append(c.d.otherStems[p.key[:2]], id)
		}
	default:
		k := c.d.keys[p.key]
		k.ids = slices.Insert(k.ids, k.words, id)
		k.words++
		c.d.keys[p.key] = k
		c.d.filterAdd(hashSkip(p.key, -1))
		if p.typo() {
			for i := range p.key {
				v := p.key[:i] + p.key[i+1:]
				if k := c.d.keys[v]; !slices.Contains(k.deleted(), id) {
					k.ids = append(k.ids, id)
					c.d.keys[v] = k
				}
				c.d.filterAdd(hashSkip(v, -1))
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
