package jwtkeys

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
)

// Key is one RSA signing key: KID names it in the JWKS and in token
// headers. Keys are generated lazily, on first use, never per request.
type Key struct {
	// KID is the key ID: a SHA-1 thumbprint of the modulus, like Azure's.
	KID string
	// Priv is the private key.
	Priv *rsa.PrivateKey
}

func newSigningKey() (*Key, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("jwtkeys: generating an RSA key: %w", err)
	}
	spki := priv.PublicKey.N.Bytes()
	sum := sha1.Sum(spki) // like Azure's x5t-style kids: a thumbprint
	return &Key{KID: base64.RawURLEncoding.EncodeToString(sum[:]), Priv: priv}, nil
}

// JWK is a public key in JWKS form.
func (k *Key) JWK() map[string]any {
	return map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.KID,
		"n": base64.RawURLEncoding.EncodeToString(k.Priv.PublicKey.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.Priv.PublicKey.E)).Bytes()),
	}
}

// Ring holds the keys of a persona or a Clerk instance; its zero value is
// ready. Its methods are safe for concurrent use: the active one signs, all published ones
// appear in the JWKS, and a spare unpublished key serves the "signed by an
// unpublished key" fault.
type Ring struct {
	mu          sync.Mutex
	initial     *Key
	published   []*Key // [0] is active
	unpublished *Key
}

// Active returns the key that signs, generating it on first use.
func (r *Ring) Active() (*Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.published) == 0 {
		if r.initial == nil {
			k, err := newSigningKey()
			if err != nil {
				return nil, err
			}
			r.initial = k
		}
		r.published = []*Key{r.initial}
	}
	return r.published[0], nil
}

// Spare returns a key that is never published (the "unpublished key"
// fault), generating it on first use.
func (r *Ring) Spare() (*Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.unpublished == nil {
		k, err := newSigningKey()
		if err != nil {
			return nil, err
		}
		r.unpublished = k
	}
	return r.unpublished, nil
}

// Rotate makes a new key active; the previous keys stay published, as
// vendors keep them during a rollover.
func (r *Ring) Rotate() (*Key, error) {
	if _, err := r.Active(); err != nil {
		return nil, err
	}
	k, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.published = append([]*Key{k}, r.published...)
	if len(r.published) > 4 {
		r.published = r.published[:4]
	}
	r.mu.Unlock()
	return k, nil
}

// Reset goes back to the initial key.
func (r *Ring) Reset() {
	r.mu.Lock()
	r.published = nil
	r.mu.Unlock()
}

// JWKS is the published key set, active key first.
func (r *Ring) JWKS() (map[string]any, error) {
	if _, err := r.Active(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]any, len(r.published))
	for i, k := range r.published {
		keys[i] = k.JWK()
	}
	return map[string]any{"keys": keys}, nil
}

// Sign signs claims with key as a compact RS256 JWS.
func Sign(key *Key, header map[string]any, claims any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	if header["alg"] == "none" {
		return in + ".", nil
	}
	d := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(nil, key.Priv, crypto.SHA256, d[:])
	if err != nil {
		return "", err
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// Verify returns the claims of a compact RS256 JWS signed by one of the
// ring's published keys (any of them, whatever its kid says), or false.
// Times are not checked: that is the caller's to decide.
func (r *Ring) Verify(tok string) ([]byte, bool) {
	if _, err := r.Active(); err != nil {
		return nil, false
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	claims, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &h) != nil || h.Alg != "RS256" {
		return nil, false
	}
	d := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r.mu.Lock()
	keys := slices.Clone(r.published)
	r.mu.Unlock()
	for _, k := range keys {
		if rsa.VerifyPKCS1v15(&k.Priv.PublicKey, crypto.SHA256, d[:], sig) == nil {
			return claims, true
		}
	}
	return nil, false
}
