// Package limittest is test support for size limits: an oversized input
// that is produced as it is read (so the test itself holds none of it),
// and a measure of what the code under test allocated while refusing it.
//
//	body := limittest.Body("SAMLResponse=", 64<<20, 'A', "")
//	alloc := limittest.Allocated(func() { handler.ServeHTTP(w, r) })
//	if alloc > limittest.Bound(8<<20) { t.Errorf("read %d bytes of a 64 MiB body", alloc) }
//
// Allocated reads process-wide counters: call it from a test that is not
// parallel, and bound the result generously (several MiB) against an input
// many times larger.
package limittest

import (
	"io"
	"runtime"
	"time"
)

// Body returns a reader of prefix, then n bytes of fill, then suffix,
// generated as read: a 1 GiB body costs the test nothing.
func Body(prefix string, n int64, fill byte, suffix string) io.Reader {
	return &body{head: prefix, left: n, fill: fill, tail: suffix}
}

type body struct {
	head, tail string
	left       int64
	fill       byte
}

func (b *body) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		switch {
		case b.head != "":
			c := copy(p[n:], b.head)
			b.head = b.head[c:]
			n += c
		case b.left > 0:
			c := min(int64(len(p)-n), b.left)
			for i := range p[n : n+int(c)] {
				p[n+i] = b.fill
			}
			b.left -= c
			n += int(c)
		case b.tail != "":
			c := copy(p[n:], b.tail)
			b.tail = b.tail[c:]
			n += c
		default:
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
	}
	return n, nil
}

// Bound is n, doubled when the race detector is on (its instrumentation
// roughly doubles what a refusal allocates): the bound to hold
// Allocated's measure to.
func Bound(n uint64) uint64 { return n * raceFactor }

// Allocated runs f and returns the bytes the process allocated meanwhile
// (runtime.MemStats.TotalAlloc) and how long f took.
func Allocated(f func()) (uint64, time.Duration) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, d
}
