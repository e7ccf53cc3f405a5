//go:build !race

package limittest

const raceFactor = 1
