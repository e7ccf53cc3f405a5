package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func runCmd(t *testing.T, stdin string, args ...string) (int, map[string]any, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	var m map[string]any
	if out.Len() > 0 {
		if err := json.Unmarshal(out.Bytes(), &m); err != nil {
			t.Fatalf("stdout is not JSON: %q", out.String())
		}
	}
	return code, m, errOut.String()
}

// runRaw runs the command and returns its exit code, stdout and stderr.
func runRaw(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestHelp: "ssokit CMD --help" (and -h, -help, "ssokit help CMD") exits 0
// with the command's usage and flags on stdout, like "ssokit --help", and
// runs nothing.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cmd   string
		flags []string // flag names its help must list
	}{
		{"demo", []string{"-app-addr", "-mock-addr", "-headless", "-v"}},
		{"mockidp", []string{"-config", "-addr", "-tls", "-ca-file", "-admin-token", "-print-config", "-v"}},
		{"issuer", []string{"-insecure-http-loopback"}},
		{"verify", []string{"-publishable-key", "-issuer", "-jwks-url", "-secret-key", "-api-url", "-public-key-file", "-authorized-party", "-insecure-http-loopback", "-leeway"}},
		{"migrate", []string{"-store", "-json"}},
	} {
		for _, args := range [][]string{{tt.cmd, "--help"}, {tt.cmd, "-h"}, {tt.cmd, "-help"}, {"help", tt.cmd}, {tt.cmd, "--app-addr", "x", "--help"}} {
			if tt.cmd != "demo" && len(args) == 4 {
				continue
			}
			code, stdout, stderr := runRaw(t, args...)
			if code != 0 || stderr != "" || !strings.Contains(stdout, "ssokit "+tt.cmd+" ") {
				t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
				continue
			}
			for _, f := range tt.flags {
				if !strings.Contains(stdout, "  "+f+" ") && !strings.Contains(stdout, "  "+f+"\n") && !strings.Contains(stdout, "  "+f+"\t") {
					t.Errorf("%q: help lacks %s:\n%s", args, f, stdout)
				}
			}
		}
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		if code, stdout, _ := runRaw(t, args...); code != 0 || !strings.Contains(stdout, "ssokit verify") {
			t.Errorf("%q: exit %d, %q", args, code, stdout)
		}
	}
	if code, _, stderr := runRaw(t, "help", "nonsense"); code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Errorf("help for an unknown command: exit %d, %q", code, stderr)
	}
	if code, _, _ := runRaw(t); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
}

// TestHelpPrintsNoSecret: keys in the environment are never printed as a
// flag's default.
func TestHelpPrintsNoSecret(t *testing.T) {
	t.Setenv("CLERK_SECRET_KEY", "sk_test_secret_from_env")
	t.Setenv("CLERK_PUBLISHABLE_KEY", "pk_test_from_env")
	if code, stdout, _ := runRaw(t, "verify", "--help"); code != 0 || strings.Contains(stdout, "from_env") {
		t.Fatalf("verify --help with keys in the environment: exit %d\n%s", code, stdout)
	}
}

// TestFlagsAfterArguments: flags are accepted after the positional
// argument; "--" ends the flags.
func TestFlagsAfterArguments(t *testing.T) {
	t.Parallel()
	local := "pk_test_" + base64.StdEncoding.EncodeToString([]byte("127.0.0.1:4451/clerk$"))
	for _, args := range [][]string{
		{"issuer", "--insecure-http-loopback", local},
		{"issuer", local, "--insecure-http-loopback"},
		{"issuer", "--insecure-http-loopback", "--", local},
	} {
		if code, m, stderr := runCmd(t, "", args...); code != 0 || m["issuer"] != "http://127.0.0.1:4451/clerk" {
			t.Errorf("%q: exit %d, %v, %s", args, code, m, stderr)
		}
	}
	// After "--", a flag-looking word is an argument: two arguments here.
	if code, _, _ := runCmd(t, "", "issuer", "--", local, "--insecure-http-loopback"); code != 2 {
		t.Errorf("issuer with two arguments after --: exit %d, want 2", code)
	}
	if code, _, stderr := runCmd(t, "", "issuer", local, "--no-such-flag"); code != 2 || !strings.Contains(stderr, "no-such-flag") {
		t.Errorf("unknown flag after the argument: exit %d, %q", code, stderr)
	}
}

func TestIssuer(t *testing.T) {
	t.Parallel()
	code, m, _ := runCmd(t, "", "issuer", "pk_test_aGFwcHktb3R0ZXItMTIuY2xlcmsuYWNjb3VudHMuZGV2JA")
	if code != 0 || m["issuer"] != "https://happy-otter-12.clerk.accounts.dev" ||
		m["jwks_url"] != "https://happy-otter-12.clerk.accounts.dev/.well-known/jwks.json" || m["instance"] != "development" {
		t.Fatalf("code %d, %v", code, m)
	}
	local := "pk_test_" + base64.StdEncoding.EncodeToString([]byte("127.0.0.1:4451/clerk$"))
	if code, m, _ := runCmd(t, "", "issuer", "--insecure-http-loopback", local); code != 0 || m["issuer"] != "http://127.0.0.1:4451/clerk" {
		t.Fatalf("code %d, %v", code, m)
	}
	if code, _, stderr := runCmd(t, "", "issuer", "sk_test_nope"); code != 1 || !strings.Contains(stderr, "pk_test_") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	if code, _, _ := runCmd(t, "", "nonsense"); code != 2 {
		t.Fatalf("unknown command exit %d", code)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	keyFile := filepath.Join(t.TempDir(), "jwt.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	sign := func(claims map[string]any) string {
		enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
		in := enc(map[string]any{"alg": "RS256", "kid": "ins_1", "typ": "JWT"}) + "." + enc(claims)
		d := sha256.Sum256([]byte(in))
		sig, _ := rsa.SignPKCS1v15(nil, key, crypto.SHA256, d[:])
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	now := time.Now()
	claims := map[string]any{"iss": "https://clerk.example.com", "sub": "user_1", "sid": "sess_1",
		"azp": "https://app.example.com", "exp": now.Add(time.Minute).Unix(), "iat": now.Unix(),
		"v": 2, "o": map[string]any{"id": "org_1", "slg": "acme", "rol": "admin"}}
	flags := []string{"verify", "--publishable-key", "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k",
		"--public-key-file", keyFile, "--authorized-party", "https://app.example.com", "--secret-key", ""}

	code, m, stderr := runCmd(t, "", append(flags, sign(claims))...)
	if code != 0 || m["ok"] != true {
		t.Fatalf("code %d %v %s", code, m, stderr)
	}
	// The token first and the flags after it verify the same.
	if code, m, stderr := runCmd(t, "", append([]string{"verify", sign(claims)}, flags[1:]...)...); code != 0 || m["ok"] != true {
		t.Fatalf("flags after the token: code %d %v %s", code, m, stderr)
	}
	p := m["principal"].(map[string]any)
	if p["user_id"] != "user_1" || p["clerk_org"].(map[string]any)["role"] != "org:admin" {
		t.Fatalf("principal %v", p)
	}
	// From stdin, refused for its issuer, with the reason and the detail.
	claims["iss"] = "https://clerk.attacker.example"
	code, m, _ = runCmd(t, sign(claims)+"\n", append(flags, "-")...)
	if code != 1 || m["ok"] != false || m["reason"] != "issuer" || m["error"] != "invalid_token" ||
		!strings.Contains(m["detail"].(string), "attacker") {
		t.Fatalf("code %d %v", code, m)
	}
	if code, _, _ := runCmd(t, "", "verify", "--publishable-key", "", "--public-key-file", keyFile, "tok"); code != 2 {
		t.Fatalf("verify without an issuer exit %d, want 2", code)
	}
}

// TestHugeFilesRefused: a file past its bound (a key file of megabytes, a
// mock configuration past 4 MiB, or /dev/zero given by mistake) is refused
// with an error naming it, exit 1, instead of being read into memory whole.
func TestHugeFilesRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := func(name string, n int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Repeat([]byte("a"), n), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := big("key.pem", maxKeyFile+1)
	code, out, errOut := runRaw(t, "verify", "--issuer", "https://clerk.example.com", "--public-key-file", key, "x.y.z")
	if code != 1 || out != "" || !strings.Contains(errOut, key+": larger than") {
		t.Errorf("verify with a huge key file: exit %d, %q %q", code, out, errOut)
	}
	cfg := big("mock.yaml", maxConfigFile+1)
	code, out, errOut = runRaw(t, "mockidp", "--addr", "127.0.0.1:0", "--config", cfg)
	if code != 1 || out != "" || !strings.Contains(errOut, cfg+": larger than") {
		t.Errorf("mockidp with a huge config: exit %d, %q %q", code, out, errOut)
	}
}
