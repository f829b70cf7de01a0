package flow

import (
	"slices"
	"testing"

	"github.com/helpline/helpline/flows"
)

// TestFieldsInFlowOrder: the shipped flows give the card's fields in the
// order a person is asked, the free answers marked, no engine variable.
func TestFieldsInFlowOrder(t *testing.T) {
	set, err := Load(flows.FS())
	if err != nil {
		t.Fatal(err)
	}
	fields := set.Fields()
	pos := map[string]int{}
	for i, f := range fields {
		if f.Var[0] == '_' {
			t.Errorf("an engine variable is a field: %q", f.Var)
		}
		pos[f.Var] = i
	}
	order := []string{"help_wanted", "safe_now", "age", "note"}
	for i := 1; i < len(order); i++ {
		a, okA := pos[order[i-1]]
		b, okB := pos[order[i]]
		if !okA || !okB || a >= b {
			t.Errorf("%s should come before %s: %v", order[i-1], order[i], fields)
		}
	}
	free := slices.IndexFunc(fields, func(f Field) bool { return f.Var == "note" })
	if free < 0 || !fields[free].Free {
		t.Errorf("the note is the person's own words: %v", fields)
	}
	if i := slices.IndexFunc(fields, func(f Field) bool { return f.Var == "help_wanted" }); i < 0 || fields[i].Free {
		t.Errorf("a choice is no free answer: %v", fields)
	}
}
