package armed

import (
	"slices"
	"testing"
)

func TestTake(t *testing.T) {
	site := map[string]string{"a": "token", "b": "token", "c": "jwks"}
	s := Set[string]{"a": 1, "b": -1, "c": 2}
	of := func(f string) string { return site[f] }
	if got := s.Take("token", of); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("first take %v", got)
	}
	if got := s.Take("token", of); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("a fault armed once fired twice, or one armed until cleared stopped: %v", got)
	}
	if got := s.Take("jwks", of); len(got) != 1 || s["c"] != 1 {
		t.Fatalf("jwks %v, left %d", got, s["c"])
	}
	s.Take("jwks", of)
	if _, ok := s["c"]; ok {
		t.Fatal("a spent fault stays armed")
	}
}
