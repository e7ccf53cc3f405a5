package controlplane

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// sign returns v with a truncated HMAC under a.key (the SSO start state).
func (a *API) sign(v string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(v))
	return base64.RawURLEncoding.EncodeToString([]byte(v)) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// unsign returns the value signed by sign, or false.
func (a *API) unsign(s string) (string, bool) {
	p, mac, ok := strings.Cut(s, ".")
	if !ok {
		return "", false
	}
	v, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || !hmac.Equal([]byte(a.sign(string(v))[len(p)+1:]), []byte(mac)) {
		return "", false
	}
	return string(v), true
}

// localPath keeps return paths on this site.
func localPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t") {
		return "/"
	}
	return p
}
