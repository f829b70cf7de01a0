package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"

	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/flows"
	"github.com/helpline/helpline/locales"
)

// contentFlags adds the flags that point at flow and locale folders on disk
// instead of the shipped ones. The defaults come from HELPLINE_FLOWS_DIR and
// HELPLINE_LOCALES_DIR.
func contentFlags(fs *flag.FlagSet, getenv func(string) string) (flowsDir, localesDir *string) {
	flowsDir = fs.String("flows", getenv("HELPLINE_FLOWS_DIR"), "folder of flow files (default: the shipped flows)")
	localesDir = fs.String("locales", getenv("HELPLINE_LOCALES_DIR"), "folder of locale files (default: the shipped locales)")
	return flowsDir, localesDir
}

// loadContent reads the flows and the locales, from the folders when given.
func loadContent(flowsDir, localesDir string) (*flow.Set, *lang.Catalog, error) {
	var ffs, lfs fs.FS = flows.FS(), locales.FS()
	if flowsDir != "" {
		ffs = os.DirFS(flowsDir)
	}
	if localesDir != "" {
		lfs = os.DirFS(localesDir)
	}
	set, err := flow.Load(ffs)
	if err != nil {
		return nil, nil, fmt.Errorf("load flows: %w", err)
	}
	cat, err := lang.Load(lfs)
	if err != nil {
		return nil, nil, fmt.Errorf("load locales: %w", err)
	}
	return set, cat, nil
}
