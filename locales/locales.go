// Package locales embeds the shipped locale files, one per language.
package locales

import (
	"embed"
	"io/fs"
)

//go:embed *.toml
var files embed.FS

// FS returns the shipped locale files.
func FS() fs.FS { return files }
