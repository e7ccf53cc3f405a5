package mockidp

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
	"sync"
)

// signingKey is one RSA key of a persona. Keys are generated lazily, on
// first use, never per request.
type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
}

func newSigningKey() (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("mockidp: generating an RSA key: %w", err)
	}
	spki := priv.PublicKey.N.Bytes()
	sum := sha1.Sum(spki) // like Azure's x5t-style kids: a thumbprint
	return &signingKey{kid: base64.RawURLEncoding.EncodeToString(sum[:]), priv: priv}, nil
}

// jwk is a public key in JWKS form.
func (k *signingKey) jwk() map[string]any {
	return map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid,
		"n": base64.RawURLEncoding.EncodeToString(k.priv.PublicKey.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.priv.PublicKey.E)).Bytes()),
	}
}

// keyRing holds a persona's keys: the active one signs, all published ones
// appear in the JWKS, and a spare unpublished key serves the "signed by an
// unpublished key" fault.
type keyRing struct {
	mu          sync.Mutex
	initial     *signingKey
	published   []*signingKey // [0] is active
	unpublished *signingKey
}

func (r *keyRing) active() (*signingKey, error) {
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
		r.published = []*signingKey{r.initial}
	}
	return r.published[0], nil
}

func (r *keyRing) spare() (*signingKey, error) {
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

// rotate makes a new key active; the previous keys stay published, as
// vendors keep them during a rollover.
func (r *keyRing) rotate() (*signingKey, error) {
	if _, err := r.active(); err != nil {
		return nil, err
	}
	k, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.published = append([]*signingKey{k}, r.published...)
	if len(r.published) > 4 {
		r.published = r.published[:4]
	}
	r.mu.Unlock()
	return k, nil
}

// reset goes back to the initial key.
func (r *keyRing) reset() {
	r.mu.Lock()
	r.published = nil
	r.mu.Unlock()
}

func (r *keyRing) jwks() (map[string]any, error) {
	if _, err := r.active(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]any, len(r.published))
	for i, k := range r.published {
		keys[i] = k.jwk()
	}
	return map[string]any{"keys": keys}, nil
}

// signJWT signs claims with key as a compact RS256 JWS.
func signJWT(key *signingKey, header map[string]any, claims any) (string, error) {
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
	sig, err := rsa.SignPKCS1v15(nil, key.priv, crypto.SHA256, d[:])
	if err != nil {
		return "", err
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// tokenHash is the OIDC at_hash / c_hash of v for RS256: the base64url of
// the left half of its SHA-256.
func tokenHash(v string) string {
	d := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(d[:16])
}
