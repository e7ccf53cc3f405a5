package clerkauth

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/clerk/clerk-sdk-go/v2"
	clerkjwks "github.com/clerk/clerk-sdk-go/v2/jwks"
	"github.com/ssokit/ssokit/internal/jwks"
	"github.com/ssokit/ssokit/internal/rsaverify"
	"github.com/ssokit/ssokit/ssoerr"
)

// RSA modulus sizes accepted for RS256 keys. Smaller keys are weak; larger
// ones turn every verification into a denial-of-service lever.
const (
	minRSABits = 2048
	maxRSABits = 4096
)

// keySource finds the verification key for a kid, prepared for RS256
// (internal/rsaverify): the key's Montgomery constants are computed when
// the key arrives, not on every token.
type keySource interface {
	key(ctx context.Context, kid string) (*rsaverify.Key, error)
}

// staticKey is the networkless source: one PEM public key verifies tokens
// whatever their kid.
type staticKey struct{ pub *rsaverify.Key }

func (s staticKey) key(context.Context, string) (*rsaverify.Key, error) { return s.pub, nil }

// parsePublicKeyPEM reads an RSA public key in PKIX PEM form. Clerk's
// dashboard shows the "JWT public key" both with and without the PEM armour;
// both are accepted.
func parsePublicKeyPEM(s string) (*rsa.PublicKey, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "-----BEGIN") {
		s = "-----BEGIN PUBLIC KEY-----\n" + s + "\n-----END PUBLIC KEY-----"
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("not a PEM block")
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("PEM block is %q, want PUBLIC KEY", block.Type)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T, want RSA", k)
	}
	if err := checkRSAKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

func checkRSAKey(pub *rsa.PublicKey) error {
	if n := pub.N.BitLen(); n < minRSABits || n > maxRSABits {
		return fmt.Errorf("RSA key has %d bits, want %d to %d", n, minRSABits, maxRSABits)
	}
	if pub.E < 3 || pub.E%2 == 0 {
		return fmt.Errorf("RSA public exponent %d is not usable", pub.E)
	}
	return nil
}

// remoteKeys is a fetched key set (internal/jwks) seen through the Clerk
// verifier's refusal reasons.
type remoteKeys struct{ cache *jwks.Cache }

func (k remoteKeys) key(ctx context.Context, kid string) (*rsaverify.Key, error) {
	pk, err := k.cache.Key(ctx, kid)
	switch {
	case errors.Is(err, jwks.ErrUnknownKey):
		return nil, invalid(ssoerr.ReasonUnknownKeyID, err.Error())
	case err != nil:
		return nil, &ssoerr.Error{Reason: ssoerr.ReasonKeysUnavailable, Detail: err.Error(), Err: ssoerr.ErrUpstream}
	}
	pub, ok := pk.(*rsaverify.Key)
	if !ok {
		return nil, invalidf(ssoerr.ReasonUnsupportedKey, "kid %q is a %T", kid, pk)
	}
	return pub, nil
}

// prepareKeys replaces each RSA key of a fetched set by its prepared form,
// which is what the cache keeps; a key that cannot be prepared is dropped.
func prepareKeys(set map[string]crypto.PublicKey) (map[string]crypto.PublicKey, error) {
	out := make(map[string]crypto.PublicKey, len(set))
	for kid, k := range set {
		pub, ok := k.(*rsa.PublicKey)
		if !ok {
			continue
		}
		if p, err := rsaverify.Prepare(pub); err == nil {
			out[kid] = p
		}
	}
	if len(out) == 0 {
		return nil, errors.New("JWKS has no usable RS256 signing key")
	}
	return out, nil
}

// usableKeys keeps the RSA signing keys fit for RS256 and indexes them by kid.
func usableKeys(set []*clerk.JSONWebKey) (map[string]crypto.PublicKey, error) {
	out := make(map[string]crypto.PublicKey, len(set))
	for _, k := range set {
		if k == nil || k.KeyID == "" || (k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != "RS256") {
			continue
		}
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok || checkRSAKey(pub) != nil {
			continue
		}
		out[k.KeyID] = pub
		if len(out) == jwks.MaxKeys {
			break
		}
	}
	return prepareKeys(out)
}

// backendJWKS fetches the key set through the Clerk Backend API with the
// secret key, using the SDK's own client.
func backendJWKS(client *http.Client, apiURL, secretKey string) jwks.Fetcher {
	c := clerkjwks.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
		HTTPClient: client, URL: &apiURL, Key: &secretKey,
	}})
	return func(ctx context.Context) (map[string]crypto.PublicKey, error) {
		set, err := c.Get(ctx, &clerkjwks.GetParams{})
		if err != nil {
			return nil, fmt.Errorf("GET %s/jwks: %w", apiURL, err)
		}
		return usableKeys(set.Keys)
	}
}

// frontendJWKS fetches the public key set from a JWKS URL (the Frontend API's
// /.well-known/jwks.json). Keys that do not decode are skipped, not fatal.
func frontendJWKS(client *http.Client, url string) jwks.Fetcher {
	return func(ctx context.Context) (map[string]crypto.PublicKey, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
		}
		keys, err := jwks.Parse(body, func(alg string, key crypto.PublicKey) bool {
			pub, ok := key.(*rsa.PublicKey)
			return ok && (alg == "" || alg == "RS256") && checkRSAKey(pub) == nil
		})
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		return prepareKeys(keys)
	}
}

// limitTransport bounds every response body read through it.
type limitTransport struct {
	base http.RoundTripper
	max  int64
}

func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

var errBodyTooLarge = errors.New("response body exceeds the size limit")

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe one byte to tell "exactly at the limit" from "over it".
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// boundedClient returns a copy of c whose response bodies are limited.
func boundedClient(c *http.Client, max int64) *http.Client {
	if c == nil {
		c = &http.Client{}
	}
	cp := *c
	base := cp.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp.Transport = limitTransport{base: base, max: max}
	return &cp
}
