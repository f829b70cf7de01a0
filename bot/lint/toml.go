package lint

import "strings"

// keyLines maps the dotted path of every key and table a TOML file names
// (as go-i18n joins them into message IDs) to the first line that names
// it. go-i18n keeps no lines, so lint finds them in the text: [section]
// headers, key = value lines with bare, quoted and dotted keys, and the
// insides of multi-line strings skipped. A path's prefixes map to the line
// of their first key too, so a plural message written as done.one = ...
// is found as done.
func keyLines(src []byte) map[string]int {
	lines := map[string]int{}
	set := func(path []string, line int) {
		for i := range path {
			p := strings.Join(path[:i+1], ".")
			if _, ok := lines[p]; !ok {
				lines[p] = line
			}
		}
	}
	var section []string
	closing := "" // the delimiter of the multi-line string being read
	for i, text := range strings.Split(string(src), "\n") {
		line := i + 1
		if closing != "" {
			if strings.Contains(text, closing) {
				closing = ""
			}
			continue
		}
		text = strings.TrimSpace(text)
		switch {
		case text == "" || text[0] == '#':
			continue
		case text[0] == '[':
			section, _ = parseKey(strings.TrimLeft(text, "["))
			set(section, line)
			continue
		}
		path, rest := parseKey(text)
		rest = strings.TrimSpace(rest)
		if len(path) == 0 || !strings.HasPrefix(rest, "=") {
			continue
		}
		set(append(append([]string(nil), section...), path...), line)
		closing = opensMultiline(strings.TrimSpace(rest[1:]))
	}
	return lines
}

// parseKey reads a dotted key (a.b, "a.b".c, 'a') from the start of s. It
// returns the key's parts and what follows it.
func parseKey(s string) (path []string, rest string) {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return path, s
		}
		var part string
		switch s[0] {
		case '"':
			end := closingQuote(s)
			if end < 0 {
				return path, s
			}
			part, s = unescape(s[1:end]), s[end+1:]
		case '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return path, s
			}
			part, s = s[1:end+1], s[end+2:]
		default:
			end := strings.IndexFunc(s, func(r rune) bool {
				return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-')
			})
			if end < 0 {
				end = len(s)
			}
			if end == 0 {
				return path, s
			}
			part, s = s[:end], s[end:]
		}
		path = append(path, part)
		s = strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(s, ".") {
			return path, s
		}
		s = s[1:]
	}
}

// closingQuote returns the index of the quote that closes the basic string
// s starts with, or -1.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// unescape resolves the common escapes of a quoted key; keys rarely hold
// any.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	r := strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\t`, "\t", `\n`, "\n")
	return r.Replace(s)
}

// opensMultiline returns the delimiter of a multi-line string that value
// opens and does not close on its line, or "".
func opensMultiline(value string) string {
	for _, d := range []string{`"""`, `'''`} {
		if rest, ok := strings.CutPrefix(value, d); ok && !strings.Contains(rest, d) {
			return d
		}
	}
	return ""
}
