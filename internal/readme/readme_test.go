package readme

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// marker names the compiled function a README snippet is the body of:
// <!-- go: path/from/repo/root_test.go FuncName -->
var marker = regexp.MustCompile(`^<!-- go: (\S+\.go) (\w+) -->$`)

// TestSnippetsAreCompiled: every ```go block in the README follows a
// marker, and is, line for line (indentation aside), the body of the
// function the marker names, which the Go toolchain compiles and vets with
// its package's tests. A README snippet therefore cannot describe an API
// that does not exist.
func TestSnippetsAreCompiled(t *testing.T) {
	root := "../.."
	src, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	checked := 0
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```go" {
			continue
		}
		start := i + 1
		end := start
		for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
			end++
		}
		block := lines[start:end]
		i = end
		prev := ""
		for j := start - 2; j >= 0; j-- {
			if strings.TrimSpace(lines[j]) != "" {
				prev = strings.TrimSpace(lines[j])
				break
			}
		}
		m := marker.FindStringSubmatch(prev)
		if m == nil {
			t.Errorf("README line %d: a Go snippet without a <!-- go: FILE FUNC --> marker before it", start)
			continue
		}
		body, err := funcBody(filepath.Join(root, m[1]), m[2])
		if err != nil {
			t.Errorf("README line %d: %v", start, err)
			continue
		}
		if got, want := normalize(block), normalize(body); got != want {
			t.Errorf("README line %d differs from %s %s:\n--- README\n%s\n--- code\n%s", start, m[1], m[2], got, want)
		}
		checked++
	}
	if checked < 3 {
		t.Fatalf("only %d snippets checked: the README lost its snippets or the scan is broken", checked)
	}
}

// funcBody returns the lines between the braces of function name in file.
func funcBody(file, name string) ([]string, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != name || fd.Body == nil {
			continue
		}
		open, close := fset.Position(fd.Body.Lbrace).Offset, fset.Position(fd.Body.Rbrace).Offset
		return strings.Split(string(src[open+1:close]), "\n"), nil
	}
	return nil, os.ErrNotExist
}

// normalize drops leading and trailing blank lines and the indentation
// common to all lines, and an Example's "// Output:" section.
func normalize(lines []string) string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "// Output:") {
			break
		}
		out = append(out, strings.TrimRight(l, " \t"))
	}
	for len(out) > 0 && strings.TrimSpace(out[0]) == "" {
		out = out[1:]
	}
	for len(out) > 0 && strings.TrimSpace(out[len(out)-1]) == "" {
		out = out[:len(out)-1]
	}
	indent := -1
	for _, l := range out {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, "\t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	for i, l := range out {
		if len(l) >= indent && indent > 0 {
			out[i] = l[indent:]
		}
	}
	return strings.Join(out, "\n")
}
