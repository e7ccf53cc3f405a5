package clerkauth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// PublishableKey is a decoded Clerk publishable key. A publishable key is
// "pk_test_" or "pk_live_" followed by the base64 of the instance's Frontend
// API host (and, for a proxied or local instance, a path) and a final "$".
type PublishableKey struct {
	// FrontendAPI is the Frontend API without a scheme, for example
	// "happy-otter-12.clerk.accounts.dev" or "127.0.0.1:4451/clerk".
	FrontendAPI string
	// Live is true for a production key (pk_live_).
	Live bool
}

// ErrPublishableKey is wrapped by every error ParsePublishableKey returns.
var ErrPublishableKey = errors.New("clerkauth: invalid publishable key")

// maxPublishableKey bounds the input; real keys are well under 200 bytes.
const maxPublishableKey = 512

// ParsePublishableKey decodes a Clerk publishable key. It accepts base64 with
// or without padding and refuses anything whose decoded form is not a bare
// host[:port][/path] ending in "$".
func ParsePublishableKey(pk string) (PublishableKey, error) {
	if len(pk) > maxPublishableKey {
		return PublishableKey{}, fmt.Errorf("%w: longer than %d bytes", ErrPublishableKey, maxPublishableKey)
	}
	var k PublishableKey
	var enc string
	switch {
	case strings.HasPrefix(pk, "pk_test_"):
		enc = pk[len("pk_test_"):]
	case strings.HasPrefix(pk, "pk_live_"):
		enc, k.Live = pk[len("pk_live_"):], true
	default:
		return PublishableKey{}, fmt.Errorf("%w: must start with pk_test_ or pk_live_", ErrPublishableKey)
	}
	raw, err := base64.RawStdEncoding.Strict().DecodeString(strings.TrimRight(enc, "="))
	if err != nil {
		return PublishableKey{}, fmt.Errorf("%w: not base64: %v", ErrPublishableKey, err)
	}
	s := string(raw)
	if !strings.HasSuffix(s, "$") {
		return PublishableKey{}, fmt.Errorf("%w: decoded value does not end with $", ErrPublishableKey)
	}
	fapi := strings.TrimSuffix(s, "$")
	if err := checkFrontendAPI(fapi); err != nil {
		return PublishableKey{}, fmt.Errorf("%w: %v", ErrPublishableKey, err)
	}
	k.FrontendAPI = fapi
	return k, nil
}

// checkFrontendAPI accepts host[:port][/path] with conservative characters.
func checkFrontendAPI(fapi string) error {
	if fapi == "" {
		return errors.New("empty Frontend API host")
	}
	for i := 0; i < len(fapi); i++ {
		c := fapi[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == ':' || c == '/' || c == '_' || c == '[' || c == ']'
		if !ok {
			return fmt.Errorf("the Frontend API %q contains %q", fapi, c)
		}
	}
	u, err := url.Parse("https://" + fapi)
	if err != nil {
		return fmt.Errorf("the Frontend API %q: %v", fapi, err)
	}
	if u.Host == "" || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("the Frontend API %q is not host[:port][/path]", fapi)
	}
	if p := u.Path; p != "" && (strings.HasSuffix(p, "/") || strings.Contains(p, "//") ||
		strings.Contains(p, "/./") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.HasSuffix(p, "/.")) {
		return fmt.Errorf("the Frontend API path %q is not clean", p)
	}
	if port := u.Port(); port != "" || strings.HasSuffix(u.Host, ":") {
		if port == "" {
			return fmt.Errorf("the Frontend API %q has an empty port", fapi)
		}
		for _, c := range port {
			if c < '0' || c > '9' {
				return fmt.Errorf("the Frontend API port %q is not numeric", port)
			}
		}
	}
	return nil
}

// Issuer returns the exact issuer of the instance's session tokens:
// "https://" + FrontendAPI. When insecureHTTPLoopback is true and the host is
// a loopback address (127.0.0.0/8, ::1 or localhost), the issuer is
// "http://" + FrontendAPI instead, which is how a local mock Clerk is
// verified. Never enable it for a real instance.
func (k PublishableKey) Issuer(insecureHTTPLoopback bool) string {
	if insecureHTTPLoopback && isLoopbackHost(k.FrontendAPI) {
		return "http://" + k.FrontendAPI
	}
	return "https://" + k.FrontendAPI
}

// isLoopbackHost reports whether the host of host[:port][/path] is loopback.
func isLoopbackHost(hostPortPath string) bool {
	u, err := url.Parse("http://" + hostPortPath)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
