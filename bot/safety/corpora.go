package safety

import (
	"embed"
	"io/fs"
)

//go:embed testdata/corpus/*.txt
var corpora embed.FS

// Corpora returns the evaluation corpora of the shipped languages, one file
// per language named by its code (en.txt, et.txt), for ReadCorpus.
func Corpora() fs.FS {
	sub, err := fs.Sub(corpora, "testdata/corpus")
	if err != nil {
		panic(err) // the folder is embedded above
	}
	return sub
}
