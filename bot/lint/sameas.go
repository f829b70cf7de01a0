package lint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// ParseSameAsEnglish reads SameAsEnglishFile: a mapping of language codes
// to lists of message IDs, such as
//
//	et: [language.name, words.menu]
//
// A mistake in it is returned as findings at its lines, file being the name
// to report it under.
func ParseSameAsEnglish(file string, src []byte) (map[string][]string, []Finding) {
	var same map[string][]string
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	err := dec.Decode(&same)
	if err == nil || errors.Is(err, io.EOF) {
		return same, nil
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		out := make([]Finding, len(te.Errors))
		for i, msg := range te.Errors {
			out[i] = yamlFinding(file, msg)
		}
		return nil, out
	}
	return nil, []Finding{yamlFinding(file, err.Error())}
}

// yamlFinding turns a yaml message ("yaml: line 3: ...") into a finding at
// that line: yaml.v3 gives the line only in its text.
func yamlFinding(file, msg string) Finding {
	f := Finding{File: file, Line: 1, Severity: Error}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if _, err := fmt.Sscanf(msg, "line %d:", &f.Line); err == nil {
		_, msg, _ = strings.Cut(msg, ":")
	}
	f.Msg = strings.TrimSpace(msg)
	return f
}
