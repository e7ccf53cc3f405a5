// Package childproc drives a peer library's helper script (Debian's
// python3 running interop/python/sp.py, Node running samlify-sp.mjs...)
// from a Go test: one child process per test, which reads one JSON request
// a line on its stdin and answers each with one JSON line on its stdout,
// or with {"fatal": "..."} when the script itself failed.
//
// Finding the interpreter and the packages it needs stays with the test
// (internal/testenv's LookPath and Missing skip it with what to install,
// and fail it when CI is set); childproc starts the process once they are
// there, serializes the calls, bounds the process's life, and reports the
// script's stderr when it exits with an error.
package childproc
