package limittest

import (
	"io"
	"strings"
	"testing"
)

func TestBody(t *testing.T) {
	b, err := io.ReadAll(Body("<", 5, 'x', ">"))
	if err != nil || string(b) != "<xxxxx>" {
		t.Fatalf("%q %v", b, err)
	}
	n, alloc := int64(0), uint64(0)
	alloc, _ = Allocated(func() { n, _ = io.Copy(io.Discard, Body("", 64<<20, 'a', "")) })
	if n != 64<<20 || alloc > Bound(1<<20) {
		t.Fatalf("copied %d bytes, allocating %d", n, alloc)
	}
	if got, _ := io.ReadAll(io.LimitReader(Body(strings.Repeat("p", 3), 1, 'f', "t"), 4)); string(got) != "pppf" {
		t.Fatalf("%q", got)
	}
}
