// Package locales embeds the shipped locale files, one per language, and
// the list of messages lint accepts as the same as English.
package locales

import (
	"embed"
	"io/fs"
)

//go:embed *.toml same-as-english.yaml safety
var files embed.FS

// FS returns the shipped locale files.
func FS() fs.FS { return files }

// Safety returns the shipped safety lexicons, one per language.
func Safety() fs.FS {
	sub, err := fs.Sub(files, "safety")
	if err != nil {
		panic(err) // the folder is embedded above
	}
	return sub
}
