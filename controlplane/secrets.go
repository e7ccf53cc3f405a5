package controlplane

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/store"
)

// sealedPrefix marks a secret sealed with one of Config.SecretsKeys
// (AES-256-GCM): "ssokit-sealed:v1:" and base64url of nonce, ciphertext
// and tag. The organization's ID is the additional data, so a sealed
// secret copied into another organization does not open.
const sealedPrefix = "ssokit-sealed:v1:"

// errSecretsKey: a secret would be kept at rest in the clear.
var errSecretsKey = errors.New("controlplane: no SecretsKeys to encrypt the connection's client secret with")

// secrets seals and opens the secrets a store keeps.
type secrets struct {
	aeads    []cipher.AEAD // the first seals; all open
	inMemory bool          // the store is this process's memory: nothing is at rest
}

func newSecrets(keys [][]byte) (*secrets, error) {
	s := &secrets{}
	for i, k := range keys {
		if len(k) != 32 {
			return nil, fmt.Errorf("controlplane: SecretsKeys[%d] is %d bytes, want 32 (AES-256)", i, len(k))
		}
		b, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		g, err := cipher.NewGCM(b)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, g)
	}
	return s, nil
}

// seal returns secret sealed for orgID. Without a key it returns secret
// as it is when the store is in memory, else errSecretsKey.
func (s *secrets) seal(orgID, secret string) (string, error) {
	if secret == "" || strings.HasPrefix(secret, sealedPrefix) {
		return secret, nil
	}
	if len(s.aeads) == 0 {
		if s.inMemory {
			return secret, nil
		}
		return "", errSecretsKey
	}
	g := s.aeads[0]
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := g.Seal(nonce, nonce, []byte(secret), []byte(orgID))
	return sealedPrefix + base64.RawURLEncoding.EncodeToString(ct), nil
}

// open returns the secret a sealed value holds; a value that is not sealed
// is returned as it is (kept before keys were configured).
func (s *secrets) open(orgID, v string) (string, error) {
	rest, sealed := strings.CutPrefix(v, sealedPrefix)
	if !sealed {
		return v, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", errors.New("controlplane: a sealed secret is not base64url")
	}
	for _, g := range s.aeads {
		if len(b) < g.NonceSize() {
			break
		}
		if pt, err := g.Open(nil, b[:g.NonceSize()], b[g.NonceSize():], []byte(orgID)); err == nil {
			return string(pt), nil
		}
	}
	return "", errors.New("controlplane: a sealed secret opens with none of SecretsKeys")
}

// sealConnection is conn as the store keeps it: JSON, its client secret
// sealed.
func (a *API) sealConnection(orgID string, conn idp.Connection) ([]byte, error) {
	if conn.OIDC != nil {
		o := *conn.OIDC
		var err error
		if o.ClientSecret, err = a.secrets.seal(orgID, o.ClientSecret); err != nil {
			return nil, err
		}
		conn.OIDC = &o
	}
	return json.Marshal(conn)
}

// orgConnection is the organization's stored direct connection, its
// client secret opened.
func (a *API) orgConnection(org store.Org) (idp.Connection, error) {
	var conn idp.Connection
	if err := json.Unmarshal(org.Connection, &conn); err != nil {
		return conn, fmt.Errorf("controlplane: the stored connection does not decode: %w", err)
	}
	// A connection's ID scopes its sign-in state and replay cache. An
	// organization's admins choose the stored one, so two organizations
	// could choose the same and accept each other's state: the ID used is
	// the organization's own.
	conn.ID = "org:" + org.ID
	if conn.OIDC != nil {
		o := *conn.OIDC
		var err error
		if o.ClientSecret, err = a.secrets.open(org.ID, o.ClientSecret); err != nil {
			return conn, err
		}
		conn.OIDC = &o
	}
	return conn, nil
}

// connectionKey names a stored connection in the connector cache: the
// organization and a digest of what is stored, so a replica whose
// organization changed elsewhere builds the new connector.
func connectionKey(org store.Org) string {
	h := sha256.Sum256(org.Connection)
	return org.ID + "\x00" + hex.EncodeToString(h[:16])
}
