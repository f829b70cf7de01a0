package streams

import "testing"

func TestLimits(t *testing.T) {
	l := New(2, 3)
	var release []func()
	for i := range 2 {
		r, ok := l.Open("person", "10.0.0.1")
		if !ok {
			t.Fatalf("stream %d refused under the ceiling", i)
		}
		release = append(release, r)
	}
	if _, ok := l.Open("person", "10.0.0.1"); ok {
		t.Fatal("a third stream for one person was let through")
	}
	r, ok := l.Open("other", "10.0.0.1")
	if !ok {
		t.Fatal("another person at the same address refused under its ceiling")
	}
	if _, ok := l.Open("third", "10.0.0.1"); ok {
		t.Fatal("a fourth stream from one address was let through")
	}
	// A refused Open takes nothing: "third" holds no stream.
	r()
	r()
	if _, ok := l.Open("third", "10.0.0.1"); !ok {
		t.Fatal("a released stream was not given back")
	}
	release[0]()
	if _, ok := l.Open("person", "10.0.0.2"); !ok {
		t.Fatal("a person who closed a stream cannot open another")
	}
	if len(l.open[0]) != 2 {
		t.Fatalf("keys of closed streams kept: %v", l.open[0])
	}
}
