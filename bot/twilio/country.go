package twilio

import (
	"strings"

	"golang.org/x/text/language"
)

// The country of a phone number comes from its calling code, looked up in a
// small table (callingcodes.go), not from nyaruka/phonenumbers. The
// country is only a hint (for the first language offered and for which
// emergency numbers to show), and for that the calling code is enough: the
// codes that several countries share are either one country's for our
// purpose (+44, +358, +47) or ambiguous anyway (+1). phonenumbers would
// parse its whole metadata in init(), bring in protobuf and regular
// expressions for every numbering plan, and answer questions (number type,
// validity, area) that we must not ask of a person's number.

// Country returns the ISO 3166 alpha-2 code of the country a phone number
// (E.164, with or without the whatsapp: prefix) most likely belongs to, or
// "" when its calling code names none.
func Country(number string) string {
	digits, ok := strings.CutPrefix(strings.TrimPrefix(number, "whatsapp:"), "+")
	if !ok {
		return ""
	}
	for n := min(3, len(digits)); n > 0; n-- {
		if cc, ok := callingCodes[digits[:n]]; ok {
			return cc
		}
	}
	return ""
}

// langHints returns the languages most likely spoken in a country, best
// first: hints for the first reply, which offers every language anyway.
func langHints(country string) []string {
	if country == "" {
		return nil
	}
	r, err := language.ParseRegion(country)
	if err != nil {
		return nil
	}
	t, err := language.Compose(language.Und, r)
	if err != nil {
		return nil
	}
	base, conf := t.Base()
	if conf == language.No {
		return nil
	}
	return []string{base.String()}
}
