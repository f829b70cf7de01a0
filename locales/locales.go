// Package locales embeds the shipped locale files, one per language, and
// the list of messages lint accepts as the same as English, and the
// console's own locale files.
package locales

import (
	"embed"
	"io/fs"
)

//go:embed *.toml same-as-english.yaml safety console
var files embed.FS

// FS returns the shipped locale files.
func FS() fs.FS { return files }

// Console returns the counsellor console's own locale files, one per
// language, apart from the bot's.
func Console() fs.FS {
	sub, err := fs.Sub(files, "console")
	if err != nil {
		panic(err) // the folder is embedded above
	}
	return sub
}

// Safety returns the shipped safety lexicons, one per language.
func Safety() fs.FS {
	sub, err := fs.Sub(files, "safety")
	if err != nil {
		panic(err) // the folder is embedded above
	}
	return sub
}
