package controlplane

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/middleware"
)

// TestErrorCodesAreConstants keeps every code this package answers with
// in errors.go's constants: no handler writes a code as a string literal.
func TestErrorCodesAreConstants(t *testing.T) {
	literal := regexp.MustCompile(`(?:[fF]ail\(w, (?:r, )?http\.Status\w+|Code:)\s*"[a-z_]+"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllString(string(src), -1) {
			t.Errorf("%s: code written as a literal: %s", f, m)
		}
	}
}

// TestREADMEListsEveryErrorCode keeps the README's error table complete: every
// code the middleware can answer with and every code this package answers
// with has a row.
func TestREADMEListsEveryErrorCode(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	collect := func(glob string, re *regexp.Regexp) {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllStringSubmatch(string(src), -1) {
				codes[m[1]] = true
			}
		}
	}
	for _, c := range middleware.PublicCodes() {
		codes[c] = true
	}
	collect("*.go", regexp.MustCompile(`\bcode[A-Z]\w*\s*=\s*"([a-z_]+)"`))
	if len(codes) < 25 {
		t.Fatalf("found only %d codes; the scan is broken", len(codes))
	}
	for c := range codes {
		if !strings.Contains(string(readme), "| `"+c+"` |") {
			t.Errorf("README error table lacks %q", c)
		}
	}
}
