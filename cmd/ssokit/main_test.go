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
