// Package safety notices danger and self-harm in what a person writes. It is
// a small classifier over lexicons that translators own (locales/safety): word
// forms, stems and combinations of concepts, matched without regard to case,
// diacritics, Latin typing of Cyrillic, repeated letters and one typo. It is
// pure: no I/O once loaded, safe for concurrent use, and it reports which
// rule matched, never the words.
package safety

import (
	"math/bits"
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

// item is one place in a rule: a word pattern, or any entry of a {list}.
type item struct {
	pat      int32 // -1 for a list
	list     *list
	optional bool
}

// list is a compiled {list}: its one-word entries as a set of patterns,
// and its entries of several words as sequences.
type list struct {
	id int32 // from 1, for remembering where it matched (scan.memo)
	// anywhere: an entry starts with an optional word, so the list may
	// match a message that has none of its first words.
	anywhere bool
	one      bitset
	multi    [][]item
	// byFirst finds the entries of several words by the pattern they
	// start with; always are those that start with an optional word.
	byFirst map[int32][]int32
	always  []int32
}

// bitset is a set of pattern IDs.
type bitset []uint64

func (b *bitset) add(id int32) {
	for int(id/64) >= len(*b) {
		*b = append(*b, 0)
	}
	(*b)[id/64] |= 1 << (id % 64)
}

func (b bitset) has(id int32) bool { return int(id/64) < len(b) && b[id/64]&(1<<(id%64)) != 0 }

// appendTo appends the IDs in the set to out, smallest first.
func (b bitset) appendTo(out []int32) []int32 {
	for i, w := range b {
		for w != 0 {
			out = append(out, int32(i*64+bits.TrailingZeros64(w)))
			w &= w - 1
		}
	}
	return out
}

// part is one part of a rule: items that stand next to each other. It is
// looked for at the words that match its anchor, its rarest item; back
// lists how many words may stand before the anchor.
type part struct {
	items  []item
	anchor int
	back   []int
}

// rule is one line of a lexicon. Its parts, joined by &, must all match
// within the window of each other. The primary part, the rarest, is looked
// for in every message; the others only near a primary part found.
type rule struct {
	kind    kind
	name    string // "danger.violence"
	lang    string
	langBit uint32 // the language's bit in scan.masked
	parts   []part
	primary int
	// needWords and needLists are the words and lists its parts cannot
	// match without: a message that lacks one passes the rule over.
	needWords []int32
	needLists []int32
}

// anchor is the primary part of a rule, looked for at a word.
type anchor struct{ rule int32 }

// Detector finds danger and self-harm in messages, with the lexicons of
// every language it loaded.
type Detector struct {
	langs    []string
	patterns []pattern
	ids      map[pattern]int32
	// keys finds a word's patterns, in one lookup: those it is, and those
	// that are it with one letter taken out, which forgive a typo.
	keys map[string]keyed
	// filter has bits set for the hash of every key, so that most words
	// of a message need no map lookup.
	filter bitset
	// stems holds the stems by their first two letters: ASCII letters and
	// digits in the table, any other pair in the map.
	stems      [36 * 36][]int32
	otherStems map[string][]int32
	anchors    [][]anchor // by pattern ID
	rules      []rule
	pool       sync.Pool
	lists      []listNeeds // by list id; 0 is none
	// starts lists, per pattern, the lists with an entry that begins with
	// it: the list's id<<1, with the low bit set where the pattern is a
	// one-word entry.
	starts [][]int32
}

// keyed is what one key finds: ids[:words] are the patterns it is, and
// ids[words:] the patterns it is with one letter taken out.
type keyed struct {
	ids   []int32
	words int
}

func (k keyed) patterns() []int32 { return k.ids[:k.words] }
func (k keyed) deleted() []int32  { return k.ids[k.words:] }

// span is one token of a scanned message: a folded word in the scan's text,
// or a boundary (from < 0).
type span struct{ from, to int32 }

// partHit is one part of a rule found in a message, over tokens [from, to).
type partHit struct{ rule, part, from, to int32 }

// scan is the scratch space of one message, reused through a pool.
type scan struct {
	d     *Detector
	buf   []byte
	text  string
	toks  []span
	hits  []int32 // the pattern IDs of every token, token after token
	at    []int32 // token i's patterns are hits[at[i]:at[i+1]]
	parts []partHit
	// masked has, per token, the bits of the languages whose not rules
	// matched it.
	masked  []uint32
	scratch []byte
	// ends is the stack of match ends that match tries in turn.
	ends []int
	// memo remembers where each list matched at each token, as a span of
	// memoEnds: rules share their lists ({me}, {take}), and a message
	// tries the same list at the same word many times. A list tried in
	// this message has a slot, slot[list]; its token i is memo[slot*len(toks)+i].
	memo     []memoSpan
	memoEnds []int
	slot     []int32
	slotGen  []uint32
	// seen has the patterns the words of the message matched, a bitset
	// small enough to stay in the processor's cache; seenLists and seenOne
	// hold, per list, the number of the message (gen) in which a word began
	// one of its entries, or was one of its one-word entries: what parts of
	// rules can match at all.
	seen               bitset
	seenLists, seenOne []uint32
	gen                uint32
	// listGen and listOK remember, per list, whether this message has all
	// the words of one of its entries.
	listGen []uint32
	listOK  []bool
	// ruleGen and ruleOK remember, per rule, whether this message has the
	// words every part of the rule needs.
	ruleGen []uint32
	ruleOK  []bool
}

// possible reports whether the message has the words every part of rule r
// needs, working it out once per message.
func (s *scan) possible(r int32, rl *rule) bool {
	if s.ruleGen[r] == s.gen {
		return s.ruleOK[r]
	}
	ok := s.all(rl.needWords) // the words first: they cost least to check
	for _, l := range rl.needLists {
		if !ok {
			break
		}
		ok = s.listPossible(l)
	}
	s.ruleGen[r], s.ruleOK[r] = s.gen, ok
	return ok
}

// listNeeds is what Detect knows of a list before it reads the list: the
// words each of its entries of several words needs, and whether one needs
// none.
type listNeeds struct {
	needs    [][]int32
	free     bool
	anywhere bool
}

// listPossible reports whether the message has all the words of some
// entry of list l, working it out once per message.
func (s *scan) listPossible(l int32) bool {
	if s.listGen[l] == s.gen {
		return s.listOK[l]
	}
	n := &s.d.lists[l]
	ok := n.free || s.seenOne[l] == s.gen
	if !ok && (n.anywhere || s.seenLists[l] == s.gen) {
		for _, need := range n.needs {
			if s.all(need) {
				ok = true
				break
			}
		}
	}
	s.listGen[l], s.listOK[l] = s.gen, ok
	return ok
}

// all reports whether the message has every word of ids.
func (s *scan) all(ids []int32) bool {
	for _, id := range ids {
		if !s.seen.has(id) {
			return false
		}
	}
	return true
}

// memoSpan is where a list's ends at one token are kept in scan.memoEnds;
// from is -1 until the list was tried there.
type memoSpan struct{ from, to int32 }

// memoAt returns where list l's ends at token i are remembered.
func (s *scan) memoAt(l *list, i int) *memoSpan {
	if s.slotGen[l.id] != s.gen {
		s.slotGen[l.id], s.slot[l.id] = s.gen, int32(len(s.memo)/len(s.toks))
		for range s.toks {
			s.memo = append(s.memo, memoSpan{-1, -1})
		}
	}
	return &s.memo[int(s.slot[l.id])*len(s.toks)+i]
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
	s.memo, s.memoEnds = s.memo[:0], s.memoEnds[:0]
	d.findParts(s)
	return d.judge(s)
}

// read tokenizes text and finds the patterns of every token.
func (d *Detector) read(s *scan, text string) {
	for _, id := range s.hits { // the last message's
		s.seen[id/64] = 0
	}
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
	if s.d != d {
		s.d = d
		n := len(d.lists)
		s.seen = make(bitset, (len(d.patterns)+63)/64)
		s.seenLists, s.seenOne, s.gen = make([]uint32, n), make([]uint32, n), 0
		s.slot, s.slotGen = make([]int32, n), make([]uint32, n)
		s.listGen, s.listOK = make([]uint32, n), make([]bool, n)
		s.ruleGen, s.ruleOK = make([]uint32, len(d.rules)), make([]bool, len(d.rules))
	}
	if s.gen++; s.gen == 0 { // after 4 billion messages
		clear(s.seenLists)
		clear(s.seenOne)
		clear(s.listGen)
		clear(s.slotGen)
		clear(s.ruleGen)
		s.gen = 1
	}
	for _, id := range s.hits {
		s.seen.add(id)
		for _, l := range d.starts[id] {
			s.seenLists[l>>1] = s.gen
			if l&1 != 0 {
				s.seenOne[l>>1] = s.gen
			}
		}
	}
}

// lookup appends the patterns that the word w matches.
func (d *Detector) lookup(s *scan, w string) {
	from := len(s.hits)
	add := func(id int32) {
		if !slices.Contains(s.hits[from:], id) {
			s.hits = append(s.hits, id)
		}
	}
	if d.maybe(hashSkip(w, -1)) {
		k := d.keys[w]
		for _, id := range k.patterns() {
			add(id)
		}
		if len(w) >= 4 { // w lacks one letter of a pattern
			for _, id := range k.deleted() {
				add(id)
			}
		}
	}
	if len(w) >= 5 { // w has a letter too many, or one changed or swapped
		for i := range w {
			if !d.maybe(hashSkip(w, i)) {
				continue
			}
			v := append(append(s.scratch[:0], w[:i]...), w[i+1:]...)
			s.scratch = v
			k := d.keys[string(v)]
			for _, id := range k.patterns() {
				if d.patterns[id].typo() {
					add(id)
				}
			}
			for _, id := range k.deleted() {
				if within1(d.patterns[id].key, w) {
					add(id)
				}
			}
		}
	}
	if len(w) >= 3 {
		for _, id := range d.stemsOf(w[:2]) {
			if stemMatches(d.patterns[id], w) {
				add(id)
			}
		}
	}
}

// stemsOf returns the stems that start with the two bytes p.
func (d *Detector) stemsOf(p string) []int32 {
	a, b := alnum(p[0]), alnum(p[1])
	if a < 0 || b < 0 {
		return d.otherStems[p]
	}
	return d.stems[a*36+b]
}

// alnum numbers a-z and 0-9 from 0 to 35, and anything else -1.
func alnum(c byte) int {
	switch {
	case 'a' <= c && c <= 'z':
		return int(c - 'a')
	case '0' <= c && c <= '9':
		return 26 + int(c-'0')
	}
	return -1
}

// filterBits is the size of the lookup filter, a Bloom filter of two bits
// a key: 512 KiB, in which the 230,000 keys of the shipped lexicons leave
// about one word in a hundred to look up for nothing.
const filterBits = 1 << 22

// filterAdd sets the filter's bits for a key of hash h.
func (d *Detector) filterAdd(h uint64) {
	a, b := filterSlots(h)
	d.filter.add(a)
	d.filter.add(b)
}

// maybe reports whether some key may have hash h.
func (d *Detector) maybe(h uint64) bool {
	a, b := filterSlots(h)
	return d.filter.has(a) && d.filter.has(b)
}

// filterSlots mixes h (FNV's low bits are weak) into the filter's two bits.
func filterSlots(h uint64) (int32, int32) {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return int32(h % filterBits), int32((h >> 32) % filterBits)
}

// hashSkip hashes w without its byte at skip (FNV-1a); skip -1 hashes all.
func hashSkip(w string, skip int) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(w); i++ {
		if i != skip {
			h = (h ^ uint64(w[i])) * 1099511628211
		}
	}
	return h
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

// findParts finds the primary part of every rule wherever its anchor
// matches a word.
func (d *Detector) findParts(s *scan) {
	s.parts = s.parts[:0]
	for j := range s.toks {
		for _, id := range s.hits[s.at[j]:s.at[j+1]] {
			for _, a := range d.anchors[id] {
				r := &d.rules[a.rule]
				if !s.possible(a.rule, r) {
					continue
				}
				p := &r.parts[r.primary]
				for _, b := range p.back {
					if i := j - b; i >= 0 {
						s.try(a.rule, int32(r.primary), p.items, i)
					}
				}
			}
		}
	}
}

// try looks for a part of a rule at token i, once.
func (s *scan) try(rule, part int32, items []item, i int) {
	for _, h := range s.parts {
		if h.rule == rule && h.part == part && h.from == int32(i) {
			return
		}
	}
	if end, ok := s.match(items, i); ok {
		s.parts = append(s.parts, partHit{rule, part, int32(i), int32(end)})
	}
}

// has reports whether token i matches pattern id.
func (s *scan) has(i int, id int32) bool {
	return i < len(s.toks) && slices.Contains(s.hits[s.at[i]:s.at[i+1]], id)
}

// match matches items from token i on and returns the token after the
// match. It tries every way an item can match, longest first, and an
// optional item both present and absent, so that a rule matches whenever
// some reading of it fits the words.
func (s *scan) match(items []item, i int) (int, bool) {
	if len(items) == 0 {
		return i, true
	}
	it := items[0]
	from := len(s.ends)
	s.itemEnds(it, i)
	to := len(s.ends)
	for k := from; k < to; k++ {
		if j, ok := s.match(items[1:], s.ends[k]); ok {
			s.ends = s.ends[:from]
			return j, true
		}
	}
	s.ends = s.ends[:from]
	if it.optional {
		return s.match(items[1:], i)
	}
	return 0, false
}

// itemEnds appends to s.ends the token after each way item it matches at
// token i, longest first.
func (s *scan) itemEnds(it item, i int) {
	if i >= len(s.toks) {
		return
	}
	if it.list == nil {
		if s.has(i, it.pat) {
			s.ends = append(s.ends, i+1)
		}
		return
	}
	from := len(s.ends)
	l := it.list
	if !l.anywhere && s.seenLists[l.id] != s.gen {
		return // no word of the message begins an entry
	}
	if m := s.memoAt(l, i); m.from >= 0 {
		s.ends = append(s.ends, s.memoEnds[m.from:m.to]...)
		return
	}
	defer func() {
		m := memoSpan{int32(len(s.memoEnds)), 0}
		s.memoEnds = append(s.memoEnds, s.ends[from:]...)
		m.to = int32(len(s.memoEnds))
		*s.memoAt(l, i) = m
	}()
	hits := s.hits[s.at[i]:s.at[i+1]]
	for _, id := range hits {
		for _, k := range l.byFirst[id] {
			if j, ok := s.match(l.multi[k], i); ok {
				s.addEnd(from, j)
			}
		}
	}
	for _, k := range l.always {
		if j, ok := s.match(l.multi[k], i); ok {
			s.addEnd(from, j)
		}
	}
	for _, id := range hits {
		if l.one.has(id) {
			s.addEnd(from, i+1)
			break
		}
	}
}

// addEnd adds e to the ends from index from on, longest first, unless it is
// there.
func (s *scan) addEnd(from, e int) {
	if slices.Contains(s.ends[from:], e) {
		return
	}
	s.ends = append(s.ends, e)
	for k := len(s.ends) - 1; k > from && s.ends[k] > s.ends[k-1]; k-- {
		s.ends[k], s.ends[k-1] = s.ends[k-1], s.ends[k]
	}
}

// judge masks what not rules matched, then returns the first danger and
// self-harm rules whose parts all matched outside the mask.
func (d *Detector) judge(s *scan) bot.Alarm {
	var a bot.Alarm
	if len(s.parts) == 0 {
		return a
	}
	// A harmless phrase of several words excuses them for every
	// language's rules; one word alone only for its own language's, since
	// a single word is too often another language's danger ("druguju",
	// Serbian for hanging out, is Russian "другую" folded; "for" is a loop
	// in Polish code and half of English).
	s.masked = append(s.masked[:0], make([]uint32, len(s.toks))...)
	for _, p := range s.parts {
		if r := &d.rules[p.rule]; r.kind == not {
			bits := r.langBit
			if p.to-p.from > 1 {
				bits = ^uint32(0)
			}
			for t := p.from; t < p.to; t++ {
				s.masked[t] |= bits
			}
		}
	}
	// The language is the one whose match reads the most of the message:
	// a word another language shares ("please" typed to a Bulgarian
	// lexicon) must not choose it over the language the whole phrase is in.
	primaries, span := len(s.parts), int32(0)
	for i := 0; i < primaries; i++ {
		h := s.parts[i]
		r := &d.rules[h.rule]
		if r.kind == not || s.isMasked(h, r.langBit) {
			continue
		}
		if (r.kind == danger && a.Danger != "" || r.kind == selfHarm && a.SelfHarm != "") && h.to-h.from <= span {
			continue
		}
		if !s.holds(r, h) {
			continue
		}
		if r.kind == danger && a.Danger == "" {
			a.Danger = r.name
		} else if r.kind == selfHarm && a.SelfHarm == "" {
			a.SelfHarm = r.name
		}
		if h.to-h.from > span {
			a.Lang, span = r.lang, h.to-h.from
		}
	}
	return a
}

// holds reports whether every part of r has a hit outside the mask near
// the primary hit h, all within the window of each other and not
// overlapping. It looks for the other parts only around h.
func (s *scan) holds(r *rule, h partHit) bool {
	if len(r.parts) == 1 {
		return true
	}
	reach := window * len(r.parts)
	from, to := max(0, int(h.from)-reach-8), min(len(s.toks), int(h.to)+reach)
	mark := len(s.parts)
	defer func() { s.parts = s.parts[:mark] }()
	for p := range r.parts {
		if p == r.primary {
			continue
		}
		for i := from; i < to; i++ {
			s.try(h.rule, int32(p), r.parts[p].items, i)
		}
	}
	hits := append(s.parts[mark:], h)
	var chosen [8]partHit
	return s.choose(len(r.parts), r.langBit, hits, chosen[:0])
}

// choose picks one unmasked hit for each of n parts, in part order, so that
// the chosen hits stand apart (apart) and form one chain within the window
// (chained).
func (s *scan) choose(n int, lang uint32, hits []partHit, chosen []partHit) bool {
	k := len(chosen)
	if k == n {
		return chained(chosen)
	}
	for _, h := range hits {
		if h.part != int32(k) || s.isMasked(h, lang) || !apart(h, chosen) {
			continue
		}
		if s.choose(n, lang, hits, append(chosen, h)) {
			return true
		}
	}
	return false
}

func (s *scan) isMasked(h partHit, lang uint32) bool {
	for t := h.from; t < h.to; t++ {
		if s.masked[t]&lang != 0 {
			return true
		}
	}
	return false
}

// covers reports whether hit a is several words that hold all of hit b.
func covers(a, b partHit) bool {
	return a.to-a.from > 1 && a.from <= b.from && b.to <= a.to && a.to-a.from > b.to-b.from
}

// apart reports whether h shares no word with any chosen hit.
func apart(h partHit, chosen []partHit) bool {
	for _, c := range chosen {
		// Parts may not share words, except that an entry of several
		// words may hold another part's word: "zamknęli nas" of {locked}
		// holds the "nas" of {us}, and says both.
		if h.from < c.to && c.from < h.to && !covers(h, c) && !covers(c, h) {
			return false
		}
	}
	return true
}

// chained reports whether the chosen hits form one chain, each within the
// window of another, whatever order the parts stand in: "if I die nobody
// will mind" and "if I die, would mind nobody" alike.
func chained(hits []partHit) bool {
	var in uint8 = 1 // the hits reached from the first, as bits
	for grew := true; grew; {
		grew = false
		for i, h := range hits {
			if in&(1<<i) != 0 {
				continue
			}
			for j, c := range hits {
				if in&(1<<j) != 0 && near(h, c) {
					in |= 1 << i
					grew = true
					break
				}
			}
		}
	}
	return in == 1<<len(hits)-1
}

// near reports whether two hits overlap or stand within the window.
func near(a, b partHit) bool {
	gap := a.from - b.to
	if b.from > a.from {
		gap = b.from - a.to
	}
	return gap <= window
}
