//go:build race

package limittest

// raceFactor: the race detector's instrumentation roughly doubles what a
// refusal allocates.
const raceFactor = 2
