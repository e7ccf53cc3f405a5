package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// InCI reports whether the CI environment variable is set (to anything
// but "" or "false").
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// Missing skips t (or fails it under CI) because what is not available;
// install says how to get it.
func Missing(t testing.TB, what, install string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required in CI but missing: %s", what, install)
	}
	t.Skipf("skipping: %s is missing (%s)", what, install)
}

// LookPath returns the path of the command name, or calls Missing.
func LookPath(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name, install)
	}
	return p
}

// RepoRoot returns the module's root directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testenv: cannot locate the source tree")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// NodeModules returns the interop/node directory once its npm packages are
// installed, or calls Missing.
func NodeModules(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), "interop", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openid-client")); err != nil {
		Missing(t, "the npm packages of interop/node", "run `npm ci --prefix interop/node` (scripts/test.sh does)")
	}
	return dir
}
