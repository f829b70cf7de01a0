// Package locales embeds the shipped locale files, one per language, and
// the list of messages lint accepts as the same as English.
package locales

import (
	"embed"
	"io/fs"
)

//go:embed *.toml same-as-english.yaml
var files embed.FS

// FS returns the shipped locale files.
func FS() fs.FS { return files }
