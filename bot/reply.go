package bot

import (
	"encoding/binary"
	"errors"
)

// ErrBadReply means stored reply bytes could not be decoded.
var ErrBadReply = errors.New("bad reply encoding")

// replyVersion leads a reply's encoding.
const replyVersion = 1

// MarshalBinary encodes r compactly for the outbox: a version byte, then
// length-prefixed strings. It is several times cheaper than JSON both ways,
// and every reply is encoded once and decoded once on its way out.
func (r Reply) MarshalBinary() ([]byte, error) {
	n := 8 + len(r.Text) + len(r.Short)
	for _, c := range r.Choices {
		n += 4 + len(c.ID) + len(c.Label)
	}
	b := make([]byte, 0, n)
	b = append(b, replyVersion)
	b = appendString(b, r.Text)
	b = appendString(b, r.Short)
	b = binary.AppendUvarint(b, uint64(len(r.Choices)))
	for _, c := range r.Choices {
		b = appendString(appendString(b, c.ID), c.Label)
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote. It never panics on bad
// input; it returns ErrBadReply.
func (r *Reply) UnmarshalBinary(b []byte) error {
	*r = Reply{}
	d := decoder{b: b}
	if d.byte() != replyVersion {
		return ErrBadReply
	}
	r.Text, r.Short = d.string(), d.string()
	if n := d.count(); n > 0 {
		r.Choices = make([]Choice, n)
		for i := range r.Choices {
			r.Choices[i] = Choice{ID: d.string(), Label: d.string()}
		}
	}
	if d.err || len(d.b) != 0 {
		*r = Reply{}
		return ErrBadReply
	}
	return nil
}
