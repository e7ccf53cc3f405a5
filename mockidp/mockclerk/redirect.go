package mockclerk

import (
	"net"
	"net/url"
	"strings"
)

// maxRedirectURL bounds a redirect_url; real ones are far shorter.
const maxRedirectURL = 4096

// parseRedirect parses an absolute http(s) URL that a browser and Go read
// alike, or says no: no control characters, spaces or backslashes
// anywhere (browsers read "\" as "/" in the authority), no userinfo, no
// fragment, no opaque form, a host, and a path that is in canonical
// escaping without dot segments or empty segments.
func parseRedirect(raw string) (*url.URL, bool) {
	if raw == "" || len(raw) > maxRedirectURL {
		return nil, false
	}
	for i := 0; i < len(raw); i++ {
		if b := raw[i]; b <= ' ' || b == 0x7f || b == '\\' || b == '#' {
			return nil, false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.User != nil ||
		u.Host == "" || u.Hostname() == "" || u.Fragment != "" || u.RawPath != "" {
		return nil, false
	}
	// The scheme and authority as written: url.Parse lower-cases the
	// scheme, and a host in another case or with a trailing dot is a
	// different string, refused by the exact comparison below.
	if !strings.HasPrefix(raw, u.Scheme+"://"+u.Host) {
		return nil, false
	}
	if u.Host != u.Hostname() && u.Host != "["+u.Hostname()+"]" && !validPort(u.Port()) {
		return nil, false
	}
	if strings.Contains(u.Path, "//") {
		return nil, false
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return nil, false
		}
	}
	return u, true
}

// validPort is a decimal port 1-65535 without leading zeros.
func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

// redirectAllowed reports whether the browser may be sent to raw: it
// parses (parseRedirect) and has the scheme, host, port and path of an
// allowed redirect URL, the query not compared; or it is an http URL on a
// loopback IP literal with a port, and an allowed http URL on the same
// literal has no port and the same path (RFC 8252 section 7.3). Nothing
// else matches: no prefix, no case folding, no default-port equivalence.
func (c *Clerk) redirectAllowed(raw string) bool {
	u, ok := parseRedirect(raw)
	if !ok {
		return false
	}
	for _, a := range c.cfg.AllowedRedirectURLs {
		au, ok := parseRedirect(a)
		if !ok || au.Scheme != u.Scheme || au.Path != u.Path {
			continue
		}
		if au.Host == u.Host {
			return true
		}
		if u.Scheme == "http" && au.Port() == "" && u.Port() != "" && au.Hostname() == u.Hostname() {
			if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
				return true
			}
		}
	}
	return false
}

// withParams returns u with the query parameters set, after removing
// every occurrence of the names in drop and in set: a redirect_url that
// already carries a handshake or dev browser parameter does not smuggle a
// second one past the one appended.
func withParams(u string, set url.Values, drop ...string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := pu.Query()
	for _, k := range drop {
		q.Del(k)
	}
	for k, vs := range set {
		q[k] = vs
	}
	pu.RawQuery = q.Encode()
	return pu.String()
}

// origin is the scheme://host[:port] of u.
func origin(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return pu.Scheme + "://" + pu.Host
}
