package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/bot/safety"
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

// content is what the engine runs: the flows, the locales and the safety
// lexicons.
type content struct {
	set    *flow.Set
	cat    *lang.Catalog
	safety *safety.Detector
}

// loadContent reads the flows, the locales and the safety lexicons (the
// safety folder of the locales), from the folders when given.
func loadContent(flowsDir, localesDir string) (content, error) {
	var ffs, lfs, sfs fs.FS = flows.FS(), locales.FS(), locales.Safety()
	if flowsDir != "" {
		ffs = os.DirFS(flowsDir)
	}
	if localesDir != "" {
		lfs = os.DirFS(localesDir)
		sfs = os.DirFS(filepath.Join(localesDir, "safety"))
	}
	var c content
	var err error
	if c.set, err = flow.Load(ffs); err != nil {
		return c, fmt.Errorf("load flows: %w", err)
	}
	if c.cat, err = lang.Load(lfs); err != nil {
		return c, fmt.Errorf("load locales: %w", err)
	}
	if c.safety, err = safety.Load(sfs); err != nil {
		return c, fmt.Errorf("load safety lexicons: %w", err)
	}
	return c, nil
}

// engine makes the conversation engine over the content.
func (c content) engine(opts flow.Options) (*flow.Engine, error) {
	opts.Detector = c.safety
	return flow.New(c.set, c.cat, opts)
}
