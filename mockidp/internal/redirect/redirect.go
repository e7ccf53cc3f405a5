// Package redirect decides whether a redirect URI a mock was handed is one
// its client registered, for the mock IdPs' OIDC clients and the mock
// Clerk's allowed redirect URLs alike.
package redirect

import (
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
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
	if n, err := strconv.Atoi(gu.Port()); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != gu.Port() {
		return false // a port as a browser writes it
	}
	for _, r := range registered {
		ru, err := url.Parse(r)
		if err != nil || ru.Scheme != "http" || ru.Port() != "" || ru.User != nil || ru.Hostname() != gu.Hostname() {
			continue
		}
		// The registered URI with got's port, compared as a string: the
		// rest (path spelling, query, no fragment, no user info) exactly
		// as registered.
		rest, ok := strings.CutPrefix(r, "http://"+ru.Host)
		if ok && "http://"+net.JoinHostPort(ru.Hostname(), gu.Port())+rest == got {
			return true
		}
	}
	return false
}
