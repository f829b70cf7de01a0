// Package flowtest builds the conversation engine over the shipped flows
// and locales, for the tests of the packages that host it.
package flowtest

import (
	"testing"

	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/flows"
	"github.com/helpline/helpline/locales"
)

// Shipped returns an engine over the shipped content and its catalog.
func Shipped(t testing.TB) (*flow.Engine, *lang.Catalog) {
	t.Helper()
	set, err := flow.Load(flows.FS())
	if err != nil {
		t.Fatal(err)
	}
	cat, err := lang.Load(locales.FS())
	if err != nil {
		t.Fatal(err)
	}
	e, err := flow.New(set, cat, flow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e, cat
}
