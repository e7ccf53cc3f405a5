// Package readme holds the test that keeps the README's Go snippets
// compiled: each is the body of an Example or test function in the
// repository, named by a comment before it, and must match it exactly.
// It has no code of its own.
package readme
