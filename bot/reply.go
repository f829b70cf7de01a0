package bot

import (
	"encoding/binary"
	"errors"
)

// ErrBadReply means stored reply bytes could not be decoded.
var ErrBadReply = errors.New("bad reply encoding")

// replyVersion leads a reply's encoding. Version 1 held the text, the SMS
// text and the choices; version 2 adds the language, the speaker, the case
// state, the place in a series and each choice's kind. Both decode, so an
// outbox written before an upgrade drains after it.
const (
	replyV1      = 1
	replyVersion = 2
)

// MarshalBinary encodes r compactly for the outbox: a version byte, then
// length-prefixed strings. It is several times cheaper than JSON both ways,
// and every reply is encoded once and decoded once on its way out.
func (r Reply) MarshalBinary() ([]byte, error) {
	n := 16 + len(r.Text) + len(r.Short) + len(r.Lang)
	for _, c := range r.Choices {
		n += 5 + len(c.ID) + len(c.Label)
	}
	b := make([]byte, 0, n)
	b = append(b, replyVersion)
	b = appendString(b, r.Text)
	b = appendString(b, r.Short)
	b = binary.AppendUvarint(b, uint64(len(r.Choices)))
	for _, c := range r.Choices {
		b = appendString(appendString(b, c.ID), c.Label)
		b = append(b, byte(c.Kind))
	}
	b = appendString(b, r.Lang)
	b = append(b, byte(r.From), byte(r.Case))
	b = binary.AppendUvarint(b, uint64(r.Step))
	b = binary.AppendUvarint(b, uint64(r.Steps))
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote, in this version or the
// one before. It never panics on bad input; it returns ErrBadReply.
func (r *Reply) UnmarshalBinary(b []byte) error {
	*r = Reply{}
	d := decoder{b: b}
	v := d.byte()
	if v != replyV1 && v != replyVersion {
		return ErrBadReply
	}
	r.Text, r.Short = d.string(), d.string()
	if n := d.count(); n > 0 {
		r.Choices = make([]Choice, n)
		for i := range r.Choices {
			r.Choices[i] = Choice{ID: d.string(), Label: d.string()}
			if v == replyVersion {
				r.Choices[i].Kind = ChoiceKind(d.byte())
			}
		}
	}
	if v == replyVersion {
		r.Lang = d.string()
		r.From, r.Case = Speaker(d.byte()), CaseState(d.byte())
		r.Step, r.Steps = d.small(), d.small()
	}
	if d.err || len(d.b) != 0 || r.From > SpeakerCounsellor || r.Case > Held {
		*r = Reply{}
		return ErrBadReply
	}
	for _, c := range r.Choices {
		if c.Kind > ChoiceErase {
			*r = Reply{}
			return ErrBadReply
		}
	}
	return nil
}

// MarshalText names a speaker as the web chat's page reads it.
func (s Speaker) MarshalText() ([]byte, error) {
	if s == SpeakerCounsellor {
		return []byte("counsellor"), nil
	}
	return []byte("bot"), nil
}

// UnmarshalText reads what MarshalText wrote.
func (s *Speaker) UnmarshalText(b []byte) error {
	switch string(b) {
	case "", "bot":
		*s = SpeakerBot
	case "counsellor":
		*s = SpeakerCounsellor
	default:
		return ErrBadReply
	}
	return nil
}

// MarshalText names a case state: none, waiting or held.
func (c CaseState) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads what MarshalText wrote.
func (c *CaseState) UnmarshalText(b []byte) error {
	for _, s := range []CaseState{NoCase, Waiting, Held} {
		if s.String() == string(b) {
			*c = s
			return nil
		}
	}
	return ErrBadReply
}

// kindNames are the names of the choice kinds, as the page reads them.
var kindNames = [...]string{ChoicePlain: "", ChoiceForget: "forget", ChoiceErase: "erase"}

// MarshalText names a choice kind: "", forget or erase.
func (k ChoiceKind) MarshalText() ([]byte, error) {
	if int(k) >= len(kindNames) {
		return nil, ErrBadReply
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText reads what MarshalText wrote.
func (k *ChoiceKind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n == string(b) {
			*k = ChoiceKind(i)
			return nil
		}
	}
	return ErrBadReply
}
