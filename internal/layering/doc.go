// Package layering holds the test that keeps ssokit's import rules: which
// package may import which, and what a Clerk-only program and the
// control-plane client may link (README, "What is in the box", import rules).
// It has no code of its own.
package layering
