// Package flows embeds the shipped flow files, so that the binary runs with
// no files beside it.
package flows

import (
	"embed"
	"io/fs"
)

//go:embed *.yaml
var files embed.FS

// FS returns the shipped flow files.
func FS() fs.FS { return files }
