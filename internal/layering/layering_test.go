package layering

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/ssokit/ssokit"

// pkg is what go list says of one package of the module.
type pkg struct {
	ImportPath string
	Imports    []string // direct, as written
	Deps       []string // transitive
	Standard   bool
}

// load lists every package of the module with its imports and deps.
func load(t *testing.T) map[string]*pkg {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is needed to list packages")
	}
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Imports,Deps,Standard", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		p := new(pkg)
		if err := dec.Decode(p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	return pkgs
}

func rel(path string) string { return strings.TrimPrefix(strings.TrimPrefix(path, module), "/") }

func ours(path string) bool { return path == module || strings.HasPrefix(path, module+"/") }

func under(path string, roots ...string) bool {
	r := rel(path)
	for _, root := range roots {
		if r == root || strings.HasPrefix(r, root+"/") {
			return true
		}
	}
	return false
}

// std reports whether an import path is the standard library's (no dot in
// its first element).
func std(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// The leaf packages of shared types import only the standard library.
var leaves = []string{"sso", "ssoerr", "ssoevent", "api"}

// Packages that may import anything (programs, the test harness, tests'
// helpers); every other package is production code.
func harness(path string) bool {
	return under(path, "cmd", "examples", "mockidp", "store/storetest", "internal/clerktest", "internal/testenv", "internal/layering")
}

// TestImportRules enforces the import rules the README states.
func TestImportRules(t *testing.T) {
	pkgs := load(t)
	credential := []string{"middleware", "clerkauth", "appsession", "apikey", "admission"}
	allowed := map[string]func(string) bool{
		"leaf": func(imp string) bool { return std(imp) },
		"rbac": func(imp string) bool { return std(imp) || under(imp, leaves...) },
		"idp": func(imp string) bool {
			return !ours(imp) || under(imp, leaves...) || under(imp, "rbac", "idp", "internal")
		},
		"cred": func(imp string) bool {
			return !ours(imp) || under(imp, leaves...) || under(imp, "rbac", "store", "internal") || under(imp, credential...)
		},
		"store":  func(imp string) bool { return !ours(imp) || under(imp, leaves...) || under(imp, "store", "internal") },
		"client": func(imp string) bool { return !ours(imp) || under(imp, leaves...) },
	}
	for path, p := range pkgs {
		var rule string
		switch {
		case under(path, leaves...):
			rule = "leaf"
		case under(path, "rbac"):
			rule = "rbac"
		case under(path, "idp"):
			rule = "idp"
		case under(path, credential...):
			rule = "cred"
		case under(path, "store") && !under(path, "store/storetest"):
			rule = "store"
		case under(path, "client"):
			rule = "client"
		}
		for _, imp := range p.Imports {
			if rule != "" && !allowed[rule](imp) {
				t.Errorf("%s imports %s (rule %q)", rel(path), imp, rule)
			}
			if !harness(path) && under(imp, "mockidp") {
				t.Errorf("production package %s imports the mock %s", rel(path), rel(imp))
			}
			if under(path, "cmd") && under(imp, "examples") {
				t.Errorf("%s imports %s: commands never import examples", rel(path), rel(imp))
			}
			if !harness(path) && (imp == "testing" || imp == "net/http/httptest") {
				t.Errorf("production package %s imports %s", rel(path), imp)
			}
		}
	}
}

// TestLeanDependencies: a program that only verifies Clerk tokens, and the
// middleware, link no SAML or OIDC code; the control-plane client links no
// server code.
func TestLeanDependencies(t *testing.T) {
	pkgs := load(t)
	samlOIDC := []string{"github.com/crewjam/saml", "github.com/russellhaering/goxmldsig", "github.com/coreos/go-oidc", "golang.org/x/oauth2", "github.com/beevik/etree"}
	for _, c := range []struct {
		pkg       string
		forbidden []string
	}{
		{"clerkauth", samlOIDC},
		{"middleware", append(slices.Clone(samlOIDC), module+"/idp", module+"/mockidp")},
		{"client", append(slices.Clone(samlOIDC), module+"/controlplane", module+"/idp", module+"/store", module+"/middleware", module+"/admission")},
		{"api", []string{"github.com/", "golang.org/"}},
		// Metrics: only ssometrics speaks OpenTelemetry, and only its
		// API; the Prometheus exporter is linked by programs alone.
		{"ssometrics", []string{"github.com/prometheus/", "go.opentelemetry.io/otel/sdk", "go.opentelemetry.io/otel/exporters/"}},
	} {
		p, ok := pkgs[module+"/"+c.pkg]
		if !ok {
			t.Errorf("package %s not found", c.pkg)
			continue
		}
		for _, d := range p.Deps {
			for _, f := range c.forbidden {
				if d == f || strings.HasPrefix(d, f+"/") || (strings.HasSuffix(f, "/") && strings.HasPrefix(d, f)) {
					t.Errorf("%s links %s", c.pkg, d)
				}
			}
		}
	}
}

// The rules must be able to fail: a package that broke each would be
// reported. (Checked on synthetic paths, so the test cannot pass vacuously
// because of a typo in a rule.)
func TestRulesCanFail(t *testing.T) {
	if !under(module+"/store/sql", "store") || under(module+"/storefront", "store") {
		t.Error("under() matches by path element")
	}
	if !std("net/http") || std("github.com/x/y") || std("golang.org/x/net") {
		t.Error("std() misclassifies")
	}
	if harness(module + "/controlplane") {
		t.Error("controlplane counted as harness")
	}
}

// TestCoreLinksNoMetrics: OpenTelemetry and Prometheus are linked only
// through ssometrics and by what assembles a program that exports them
// (the commands, the examples, the demo); every other package, the core
// ones first, links neither.
func TestCoreLinksNoMetrics(t *testing.T) {
	pkgs := load(t)
	for path, p := range pkgs {
		if under(path, "ssometrics", "cmd", "examples", "mockidp/demo") {
			continue
		}
		for _, d := range p.Deps {
			if strings.HasPrefix(d, "go.opentelemetry.io/") || strings.HasPrefix(d, "github.com/prometheus/") {
				t.Errorf("%s links %s", rel(path), d)
				break
			}
		}
	}
	for _, core := range []string{"clerkauth", "middleware", "idp", "store", "controlplane", "admission"} {
		if _, ok := pkgs[module+"/"+core]; !ok {
			t.Errorf("package %s not found: the check would pass vacuously", core)
		}
	}
}
