package bot

import (
	"encoding/binary"
	"errors"
	"slices"
)

// Session is where one person is in the conversation. It is small and
// encodes compactly: it lives in Redis between messages.
type Session struct {
	// Lang is the language code the person is answered in; empty before
	// the first message.
	Lang string
	// Stack holds the flows in progress, innermost last. Empty when the
	// conversation rests.
	Stack []Frame
	// Vars are the values the flows collected.
	Vars map[string]string
	// Retries counts invalid answers to the current question.
	Retries uint8
	// Last is the time of the last message, in Unix seconds.
	Last int64
	// Case is the person's open counsellor case, if any: the one place
	// where its state is kept on the person's side.
	Case OpenCase
}

// OpenCase is a person's counsellor case as the conversation sees it.
type OpenCase struct {
	// Code names the case in the queue; empty when there is none.
	Code  string
	State CaseState
}

// CaseState is where a person's counsellor case stands.
type CaseState uint8

// The states of a person's case.
const (
	// NoCase: the person has not asked for a counsellor, or the case ended.
	NoCase CaseState = iota
	// Waiting: the case is in the queue; what the person writes is
	// relayed to it.
	Waiting
	// Held: a counsellor holds the case; everything the person writes goes
	// to them, except the safety commands.
	Held
)

func (c CaseState) String() string {
	switch c {
	case Waiting:
		return "waiting"
	case Held:
		return "held"
	}
	return "none"
}

// Frame is one flow in progress and the node it waits at or resumes from.
type Frame struct {
	Flow string
	Node string
}

// ErrBadSession means stored session bytes could not be decoded.
var ErrBadSession = errors.New("bad session encoding")

// sessionVersion is the encoding MarshalBinary writes. Version 2 wrote
// every name out; version 3 writes a session word (sessionWords) as its
// place in the list. Both are read.
const sessionVersion = 3

// MarshalBinary encodes s compactly: a version byte, then varints, names
// (appendWord) and length-prefixed strings. Variables are written in key
// order so that equal sessions encode equally.
func (s *Session) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 32+8*len(s.Vars))
	return s.AppendBinary(b)
}

// AppendBinary appends the encoding of s to b.
func (s *Session) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, sessionVersion)
	b = binary.AppendVarint(b, s.Last)
	b = append(b, s.Retries)
	b = append(b, byte(s.Case.State))
	b = appendWord(b, s.Lang)
	b = appendString(b, s.Case.Code)
	b = binary.AppendUvarint(b, uint64(len(s.Stack)))
	for _, f := range s.Stack {
		b = appendWord(b, f.Flow)
		b = appendWord(b, f.Node)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Vars)))
	if len(s.Vars) == 1 {
		for k, v := range s.Vars {
			b = appendWord(appendWord(b, k), v)
		}
		return b, nil
	}
	keys := make([]string, 0, len(s.Vars))
	for k := range s.Vars {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = appendWord(appendWord(b, k), s.Vars[k])
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote, in this version or the
// one before. It never panics on bad input; it returns ErrBadSession.
func (s *Session) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	switch d.byte() {
	case sessionVersion:
		d.words = true
	case 2:
	default:
		return ErrBadSession
	}
	*s = Session{}
	s.Last = d.varint()
	s.Retries = d.byte()
	s.Case.State = CaseState(d.byte())
	s.Lang = d.name()
	s.Case.Code = d.string()
	n := d.count()
	if n > 0 {
		s.Stack = make([]Frame, n)
		for i := range s.Stack {
			s.Stack[i] = Frame{Flow: d.name(), Node: d.name()}
		}
	}
	n = d.count()
	if n > 0 {
		s.Vars = make(map[string]string, n)
		for range n {
			k := d.name()
			s.Vars[k] = d.name()
		}
	}
	if d.err || len(d.b) != 0 || s.Case.State > Held || (s.Case.State == NoCase) != (s.Case.Code == "") {
		*s = Session{}
		return ErrBadSession
	}
	return nil
}

// appendWord appends a name: a session word as twice its place, any other
// string as its length times two plus one, then its bytes.
func appendWord(b []byte, s string) []byte {
	if i, ok := wordPlace[s]; ok {
		return binary.AppendUvarint(b, uint64(i)<<1)
	}
	b = binary.AppendUvarint(b, uint64(len(s))<<1|1)
	return append(b, s...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

type decoder struct {
	b   []byte
	err bool
	// words: names are written by appendWord, not appendString.
	words bool
}

// name reads a name of a session.
func (d *decoder) name() string {
	if !d.words {
		return d.string()
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = true
		return ""
	}
	d.b = d.b[n:]
	if v&1 == 0 {
		if v>>1 >= uint64(len(sessionWords)) {
			d.err = true
			return ""
		}
		return sessionWords[v>>1]
	}
	if v>>1 > uint64(len(d.b)) {
		d.err = true
		return ""
	}
	s := string(d.b[:v>>1])
	d.b = d.b[v>>1:]
	return s
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.err = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length that must fit in what is left of the input, so a
// forged length cannot make the decoder allocate much.
func (d *decoder) count() int {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > uint64(len(d.b)) {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *decoder) string() string {
	n := d.count()
	if d.err || n > len(d.b) {
		d.err = true
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// small reads an unsigned number that must fit in 16 bits: a count that a
// reply carries, such as its place in a series.
func (d *decoder) small() int {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > 1<<16 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}
