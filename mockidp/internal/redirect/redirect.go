// Package redirect decides whether a redirect URI a mock was handed is one
// its client registered, for the mock IdPs' OIDC clients and the mock
// Clerk's allowed redirect URLs alike.
package redirect

import (
	"net"
	"net/url"
	"slices"
)

// Allowed reports whether got is one of the registered URIs exactly, or a
// loopback http URI that matches one registered without a port in all but
// the port (RFC 8252 section 7.3: a native app's loopback redirect may use
// any port). Nothing else matches: no prefix, no case folding, no other
// host.
func Allowed(registered []string, got string) bool {
	if got == "" {
		return false
	}
	if slices.Contains(registered, got) {
		return true
	}
	gu, err := url.Parse(got)
	if err != nil || gu.Scheme != "http" || gu.Port() == "" {
		return false
	}
	ip := net.ParseIP(gu.Hostname())
	if ip == nil || !ip.IsLoopback() {
		return false
	}
	for _, r := range registered {
		ru, err := url.Parse(r)
		if err != nil || ru.Scheme != "http" || ru.Port() != "" || ru.Hostname() != gu.Hostname() {
			continue
		}
		if ru.Path == gu.Path && ru.RawQuery == gu.RawQuery {
			return true
		}
	}
	return false
}
