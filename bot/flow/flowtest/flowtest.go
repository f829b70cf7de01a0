// Package flowtest builds the conversation engine over the shipped flows
// and locales, for the tests of the packages that host it.
package flowtest

import (
	"testing"

	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/bot/safety"
	"github.com/helpline/helpline/flows"
	"github.com/helpline/helpline/locales"
)

// Shipped returns an engine over the shipped content and its catalog.
func Shipped(t testing.TB) (*flow.Engine, *lang.Catalog) {
	t.Helper()
	cat, err := lang.Load(locales.FS())
	if err != nil {
		t.Fatal(err)
	}
	return ShippedWith(t, flow.Options{}), cat
}

// ShippedWith is Shipped with engine options; the detector is the shipped
// one.
func ShippedWith(t testing.TB, opts flow.Options) *flow.Engine {
	t.Helper()
	set, err := flow.Load(flows.FS())
	if err != nil {
		t.Fatal(err)
	}
	cat, err := lang.Load(locales.FS())
	if err != nil {
		t.Fatal(err)
	}
	if opts.Detector, err = safety.Load(locales.Safety()); err != nil {
		t.Fatal(err)
	}
	e, err := flow.New(set, cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
