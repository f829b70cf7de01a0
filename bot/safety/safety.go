// Package safety notices danger and self-harm in what a person writes. It is
// a small classifier over lexicons that translators own (locales/safety): word
// forms, stems and combinations of concepts, matched without regard to case,
// diacritics, Latin typing of Cyrillic, repeated letters and one typo. It is
// pure: no I/O once loaded, safe for concurrent use, and it reports which
// rule matched, never the words.
package safety

import (
	"slices"
	"sync"

	"github.com/helpline/helpline/bot"
)

// window is the most words that may stand between two parts of a rule
// joined by &.
const window = 6

// kind is what a rule detects; not rules cancel the others where they match.
type kind uint8

const (
	danger kind = iota + 1
	selfHarm
	not
)

func (k kind) String() string {
	switch k {
	case danger:
		return "danger"
	case selfHarm:
		return "selfharm"
	}
	return "not"
}

// boundaryID is the pattern ID of $, the start or end of a sentence.
const boundaryID = 0

// pattern is one word of a lexicon as matched: a folded word, or a stem
// that any word starting with it matches.
type pattern struct {
	key   string
	stem  bool
	exact bool // =word: no typo forgiven
}

// typo reports whether one typo is forgiven in a word matched to p.
func (p pattern) typo() bool { return !p.exact && len(p.key) >= 5 }

// item is one place in a rule: a word pattern, or one of several sequences
// (the entries of a {list}).
type item struct {
	pat      int32
	alts     [][]item
	optional bool
}

// rule is one line of a lexicon. Its parts, joined by &, must all match
// within the window of each other.
type rule struct {
	kind  kind
	name  string // "danger.violence"
	lang  string
	parts [][]item
}

// anchor is a part of a rule that may start at a word.
type anchor struct{ rule, part int32 }

// Detector finds danger and self-harm in messages, with the lexicons of
// every language it loaded.
type Detector struct {
	langs    []string
	patterns []pattern
	ids      map[pattern]int32
	// words finds a word's patterns: exact by its key; deleted by the key
	// with one letter taken out, for the patterns that forgive a typo.
	words   map[string][]int32
	deleted map[string][]int32
	// stems holds the stems by their first two letters.
	stems   map[string][]int32
	anchors [][]anchor // by pattern ID
	rules   []rule
	pool    sync.Pool
}

// span is one token of a scanned message: a folded word in the scan's text,
// or a boundary (from < 0).
type span struct{ from, to int32 }

// partHit is one part of a rule found in a message, over tokens [from, to).
type partHit struct{ rule, part, from, to int32 }

// scan is the scratch space of one message, reused through a pool.
type scan struct {
	buf     []byte
	text    string
	toks    []span
	hits    []int32 // the pattern IDs of every token, token after token
	at      []int32 // token i's patterns are hits[at[i]:at[i+1]]
	parts   []partHit
	masked  []bool
	scratch []byte
}

// Languages lists the languages whose lexicons were loaded, sorted.
func (d *Detector) Languages() []string { return d.langs }

// Detect classifies one message. It never keeps the text.
func (d *Detector) Detect(text string) bot.Alarm {
	if d == nil || text == "" {
		return bot.Alarm{}
	}
	s, _ := d.pool.Get().(*scan)
	if s == nil {
		s = &scan{}
	}
	defer d.pool.Put(s)
	d.read(s, text)
	d.findParts(s)
	return d.judge(s)
}

// read tokenizes text and finds the patterns of every token.
func (d *Detector) read(s *scan, text string) {
	s.buf, s.toks = tokenize(text, s.buf[:0], s.toks[:0])
	s.text = string(s.buf)
	s.hits, s.at = s.hits[:0], s.at[:0]
	for _, t := range s.toks {
		s.at = append(s.at, int32(len(s.hits)))
		if t.from < 0 {
			s.hits = append(s.hits, boundaryID)
			continue
		}
		d.lookup(s, s.text[t.from:t.to])
	}
	s.at = append(s.at, int32(len(s.hits)))
}

// lookup appends the patterns that the word w matches.
func (d *Detector) lookup(s *scan, w string) {
	from := len(s.hits)
	add := func(id int32) {
		if !slices.Contains(s.hits[from:], id) {
			s.hits = append(s.hits, id)
		}
	}
	for _, id := range d.words[w] {
		add(id)
	}
	if len(w) >= 4 { // w lacks one letter of a pattern
		for _, id := range d.deleted[w] {
			add(id)
		}
	}
	if len(w) >= 5 { // w has a letter too many, or one changed or swapped
		for i := range w {
			v := append(append(s.scratch[:0], w[:i]...), w[i+1:]...)
			s.scratch = v
			for _, id := range d.words[string(v)] {
				if d.patterns[id].typo() {
					add(id)
				}
			}
			for _, id := range d.deleted[string(v)] {
				if within1(d.patterns[id].key, w) {
					add(id)
				}
			}
		}
	}
	if len(w) >= 3 {
		for _, id := range d.stems[w[:2]] {
			if stemMatches(d.patterns[id], w) {
				add(id)
			}
		}
	}
}

// stemMatches reports whether word w starts with the stem p, forgiving one
// typo in a stem of five letters or more.
func stemMatches(p pattern, w string) bool {
	k := p.key
	if len(w) >= len(k) {
		if w[:len(k)] == k {
			return true
		}
		// A stem that ends before a letter pair folds differently from
		// the word: "бьет*" is biet, but "бьется" folds to biecia.
		last := k[len(k)-1]
		if w[:len(k)-1] == k[:len(k)-1] && (last == 't' && w[len(k)-1] == 'c' || last == 'k' && w[len(k)-1] == 'h') {
			return true
		}
	}
	if !p.typo() {
		return false
	}
	for n := len(k) - 1; n <= len(k)+1 && n <= len(w); n++ {
		if within1(w[:n], k) {
			return true
		}
	}
	return false
}

// findParts finds every part of every rule that starts at some token.
func (d *Detector) findParts(s *scan) {
	s.parts = s.parts[:0]
	for i := range s.toks {
		for _, id := range s.hits[s.at[i]:s.at[i+1]] {
			for _, a := range d.anchors[id] {
				if s.found(a, i) {
					continue
				}
				if end, ok := s.match(d.rules[a.rule].parts[a.part], i); ok {
					s.parts = append(s.parts, partHit{a.rule, a.part, int32(i), int32(end)})
				}
			}
		}
	}
}

// found reports whether part a was already found starting at token i.
func (s *scan) found(a anchor, i int) bool {
	for j := len(s.parts) - 1; j >= 0 && s.parts[j].from == int32(i); j-- {
		if s.parts[j].rule == a.rule && s.parts[j].part == a.part {
			return true
		}
	}
	return false
}

// has reports whether token i matches pattern id.
func (s *scan) has(i int, id int32) bool {
	return i < len(s.toks) && slices.Contains(s.hits[s.at[i]:s.at[i+1]], id)
}

// match matches items from token i on, greedily, and returns the token
// after the match.
func (s *scan) match(items []item, i int) (int, bool) {
	for _, it := range items {
		j, ok := s.matchItem(it, i)
		switch {
		case ok:
			i = j
		case !it.optional:
			return 0, false
		}
	}
	return i, true
}

func (s *scan) matchItem(it item, i int) (int, bool) {
	if it.alts == nil {
		return i + 1, s.has(i, it.pat)
	}
	for _, alt := range it.alts {
		if j, ok := s.match(alt, i); ok {
			return j, true
		}
	}
	return 0, false
}

// judge masks what not rules matched, then returns the first danger and
// self-harm rules whose parts all matched outside the mask.
func (d *Detector) judge(s *scan) bot.Alarm {
	var a bot.Alarm
	if len(s.parts) == 0 {
		return a
	}
	s.masked = append(s.masked[:0], make([]bool, len(s.toks))...)
	for _, p := range s.parts {
		if d.rules[p.rule].kind == not {
			for t := p.from; t < p.to; t++ {
				s.masked[t] = true
			}
		}
	}
	// Parts come in token order; sort them by rule to see each rule's parts
	// together.
	slices.SortStableFunc(s.parts, func(x, y partHit) int { return int(x.rule) - int(y.rule) })
	for i := 0; i < len(s.parts); {
		j := i
		for j < len(s.parts) && s.parts[j].rule == s.parts[i].rule {
			j++
		}
		r := &d.rules[s.parts[i].rule]
		if r.kind != not && ((r.kind == danger && a.Danger == "") || (r.kind == selfHarm && a.SelfHarm == "")) {
			if s.holds(r, s.parts[i:j]) {
				if r.kind == danger {
					a.Danger = r.name
				} else {
					a.SelfHarm = r.name
				}
				if a.Lang == "" {
					a.Lang = r.lang
				}
			}
		}
		i = j
	}
	return a
}

// holds reports whether every part of r has a hit outside the mask, all
// within the window of each other and not overlapping.
func (s *scan) holds(r *rule, hits []partHit) bool {
	var chosen [8]partHit
	return s.choose(len(r.parts), hits, chosen[:0])
}

// choose picks one unmasked hit for each of n parts, in part order, so that
// the chosen hits neither overlap nor stand further apart than the window.
func (s *scan) choose(n int, hits []partHit, chosen []partHit) bool {
	k := len(chosen)
	if k == n {
		return true
	}
	for _, h := range hits {
		if h.part != int32(k) || s.isMasked(h) || !fits(h, chosen) {
			continue
		}
		if s.choose(n, hits, append(chosen, h)) {
			return true
		}
	}
	return false
}

func (s *scan) isMasked(h partHit) bool {
	for t := h.from; t < h.to; t++ {
		if s.masked[t] {
			return true
		}
	}
	return false
}

// fits reports whether h stands apart from every chosen hit and near at
// least one of them (so the whole chain is within reach).
func fits(h partHit, chosen []partHit) bool {
	if len(chosen) == 0 {
		return true
	}
	near := false
	for _, c := range chosen {
		if h.from < c.to && c.from < h.to {
			return false
		}
		gap := h.from - c.to
		if c.from > h.from {
			gap = c.from - h.to
		}
		if gap <= window {
			near = true
		}
	}
	return near
}
