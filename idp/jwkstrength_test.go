package idp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// TestKeySetKeepsOnlyStrongKeys: an OIDC connection's key set keeps RSA
// keys of at least 2048 bits and ECDSA keys of at least 256, as SAML
// signing certificates must have; a 1024- or 2040-bit RSA key published
// beside them is left out, so nothing it signs verifies. (A JWK names no
// curve below P-256.)
func TestKeySetKeepsOnlyStrongKeys(t *testing.T) {
	t.Parallel()
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa2040, _ := rsa.GenerateKey(rand.Reader, 2040)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &rsa1024.PublicKey, KeyID: "rsa1024", Algorithm: "RS256", Use: "sig"},
		{Key: &rsa2048.PublicKey, KeyID: "rsa2048", Algorithm: "RS256", Use: "sig"},
		{Key: &rsa2040.PublicKey, KeyID: "rsa2040", Algorithm: "RS256", Use: "sig"},
		{Key: &p256.PublicKey, KeyID: "p256", Algorithm: "ES256", Use: "sig"},
	}}
	body, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	keys, err := fetchJWKS(srv.Client(), srv.URL)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for kid := range keys {
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	if !slices.Equal(kids, []string{"p256", "rsa2048"}) {
		t.Fatalf("kept %v, want [p256 rsa2048]", kids)
	}
}
