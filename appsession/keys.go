package appsession

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// Key is one signing key of the app session: an RSA (RS256, at least 2048
// bits) or Ed25519 (EdDSA) private key and its key ID, the JWS kid.
type Key struct {
	ID  string
	Key crypto.Signer
}

// alg is the JWS algorithm of the key.
func (k Key) alg() string {
	if _, ok := k.Key.(ed25519.PrivateKey); ok {
		return "EdDSA"
	}
	return "RS256"
}

// check refuses keys that are not RSA of 2048 bits or more, or Ed25519.
func (k Key) check() error {
	if k.ID == "" {
		return errors.New("appsession: a key has no ID")
	}
	switch s := k.Key.(type) {
	case *rsa.PrivateKey:
		if s.N.BitLen() < 2048 {
			return fmt.Errorf("appsession: RSA key %q is shorter than 2048 bits", k.ID)
		}
		return nil
	case ed25519.PrivateKey:
		return nil
	}
	return fmt.Errorf("appsession: key %q is %T, want RSA or Ed25519", k.ID, k.Key)
}

// ParseKeyPEM reads a PKCS#8 (or PKCS#1 RSA) private key in PEM and names
// it id.
func ParseKeyPEM(id string, pemBytes []byte) (Key, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return Key{}, errors.New("appsession: key is not PEM")
	}
	var k any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return Key{}, fmt.Errorf("appsession: key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return Key{}, fmt.Errorf("appsession: key is %T, want RSA or Ed25519", k)
	}
	key := Key{ID: id, Key: signer}
	return key, key.check()
}

// ParseKeyJWK reads a private key in JWK form (RSA with d, p, q; or OKP
// Ed25519 with d); its kid becomes the key ID.
func ParseKeyJWK(data []byte) (Key, error) {
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(data); err != nil {
		return Key{}, fmt.Errorf("appsession: JWK: %w", err)
	}
	if k.KeyID == "" {
		return Key{}, errors.New("appsession: JWK has no kid")
	}
	signer, ok := k.Key.(crypto.Signer)
	if !ok {
		return Key{}, fmt.Errorf("appsession: JWK is %T, want an RSA or Ed25519 private key", k.Key)
	}
	key := Key{ID: k.KeyID, Key: signer}
	return key, key.check()
}

// EphemeralKey makes an Ed25519 key that lives as long as the process:
// sessions do not survive a restart and replicas do not share them. For
// demos and tests; set Config.Ephemeral so New logs a warning.
func EphemeralKey() Key {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic("appsession: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	return Key{ID: "ephemeral-" + base64.RawURLEncoding.EncodeToString(pub[:6]), Key: priv}
}
