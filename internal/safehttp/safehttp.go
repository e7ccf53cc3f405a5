// Package safehttp is the one HTTP client for URLs that a tenant supplies
// (SAML metadata, OIDC discovery, keys, token and userinfo endpoints of a
// customer's identity provider): it refuses to reach the server's own
// network.
//
//	c := safehttp.NewClient(safehttp.Config{})
//	resp, err := c.Get("https://idp.example.com/metadata")
//
// What it enforces:
//   - https only (plain http only to a loopback host, and only with
//     Config.AllowLoopback, an operator's setting for tests and demos);
//   - the address actually dialed, after DNS resolution, is checked in the
//     dialer's Control hook (so DNS rebinding does not help): loopback,
//     private (RFC 1918), link-local, CGNAT, multicast, unspecified,
//     broadcast, documentation and other special-purpose ranges are
//     refused, in IPv4 and in every IPv6 form that embeds an IPv4 address
//     (mapped, compatible, NAT64, 6to4, Teredo), as are IPv6 ULA,
//     link-local, site-local and multicast; see CheckAddr;
//   - no proxy from the environment (a proxy would hide the real target);
//   - at most Config.MaxRedirects redirects, each URL checked again, and
//     none at all for a request that is not a GET (a token request's body
//     holds the client secret);
//   - a time limit for the whole exchange and a bound on the response body
//     (reading past it fails with ErrTooLarge).
//
// Its errors are detailed, for logs: callers show their users only which
// step failed.
package safehttp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Defaults of Config's zero fields.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultMaxBody      = 2 << 20
	DefaultMaxRedirects = 3
)

var (
	// ErrBlocked: the URL or the address it resolves to is not one this
	// client may reach.
	ErrBlocked = errors.New("safehttp: destination not allowed")
	// ErrTooLarge: the response body is larger than Config.MaxBody.
	ErrTooLarge = errors.New("safehttp: response body too large")
	// ErrRedirect: too many redirects, or a redirect of a request that is
	// not a GET.
	ErrRedirect = errors.New("safehttp: redirect refused")
)

// Config configures a client. The zero value is the strict client.
type Config struct {
	// AllowLoopback lets the client reach loopback addresses (127.0.0.0/8,
	// ::1), over http too when the URL's host is a loopback literal or
	// "localhost". It is for tests and demos that run an identity provider
	// on this machine; an operator sets it, never a tenant. Every other
	// refused range stays refused.
	AllowLoopback bool
	// TLSClientConfig, when set, is the TLS configuration (a test CA, a
	// corporate root). Nil means the system roots.
	TLSClientConfig *tls.Config
	// Timeout bounds a whole request, body included. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxBody bounds a response body in bytes. Zero means DefaultMaxBody.
	MaxBody int64
	// MaxRedirects bounds the redirects followed. Zero means
	// DefaultMaxRedirects; negative follows none.
	MaxRedirects int
	// LoopbackDial, honoured only with AllowLoopback, dials instead of
	// the client's own dialer: a test's dialer that maps host names such
	// as idp.okta.test to 127.0.0.1. The address it connects to is checked
	// as every other (CheckAddr) before a byte is sent.
	LoopbackDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// NewClient returns a client that enforces cfg (see the package comment).
func NewClient(cfg Config) *http.Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	switch {
	case cfg.MaxRedirects == 0:
		cfg.MaxRedirects = DefaultMaxRedirects
	case cfg.MaxRedirects < 0:
		cfg.MaxRedirects = 0
	}
	allow := cfg.AllowLoopback
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			if network != "tcp4" && network != "tcp6" {
				return fmt.Errorf("%w: network %s", ErrBlocked, network)
			}
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: address %q", ErrBlocked, address)
			}
			return CheckAddr(ap.Addr(), allow)
		},
	}
	dial := dialer.DialContext
	if allow && cfg.LoopbackDial != nil {
		dial = checkedDial(cfg.LoopbackDial, allow)
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dial,
		TLSClientConfig:        cfg.TLSClientConfig.Clone(),
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  cfg.Timeout,
		IdleConnTimeout:        30 * time.Second,
		MaxIdleConns:           16,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Timeout:   cfg.Timeout,
		Transport: &guard{next: tr, allow: allow, maxBody: cfg.MaxBody},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > 0 && via[0].Method != http.MethodGet {
				return fmt.Errorf("%w: a %s request is not redirected", ErrRedirect, via[0].Method)
			}
			if len(via) > cfg.MaxRedirects {
				return fmt.Errorf("%w: more than %d redirects", ErrRedirect, cfg.MaxRedirects)
			}
			return CheckURL(req.URL, allow)
		},
	}
}

// checkedDial dials with dial and keeps the connection only when its
// remote address is one CheckAddr accepts.
func checkedDial(dial func(ctx context.Context, network, addr string) (net.Conn, error), allow bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		ta, ok := conn.RemoteAddr().(*net.TCPAddr)
		if !ok {
			conn.Close()
			return nil, fmt.Errorf("%w: not a TCP connection", ErrBlocked)
		}
		if err := CheckAddr(ta.AddrPort().Addr(), allow); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	}
}

// guard checks every request's URL and bounds every response body.
type guard struct {
	next    http.RoundTripper
	allow   bool
	maxBody int64
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := CheckURL(req.URL, g.allow); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > g.maxBody {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("%w: Content-Length %d, limit %d", ErrTooLarge, resp.ContentLength, g.maxBody)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: g.maxBody}
	return resp, nil
}

// limitedBody fails with ErrTooLarge once more than its limit is read.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - int(-b.left), ErrTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// CheckURL reports whether u may be requested: an absolute https URL with
// no user information (http only to a loopback host with allowLoopback),
// and, when its host is an IP literal, an address CheckAddr accepts. A
// host name is checked when it is dialed.
func CheckURL(u *url.URL, allowLoopback bool) error {
	if u == nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return fmt.Errorf("%w: not an absolute URL without user information", ErrBlocked)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: no host", ErrBlocked)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowLoopback || !isLoopbackHost(host) {
			return fmt.Errorf("%w: scheme http (https is required)", ErrBlocked)
		}
	default:
		return fmt.Errorf("%w: scheme %q (https is required)", ErrBlocked, u.Scheme)
	}
	if strings.Contains(host, "%") {
		return fmt.Errorf("%w: an IPv6 zone in the host", ErrBlocked)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return CheckAddr(ip, allowLoopback)
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// Special-purpose ranges no tenant URL may reach. IPv4 forms are checked
// after unwrapping any IPv6 form that embeds them.
var (
	blocked4 = prefixes(
		"0.0.0.0/8",       // "this network", unspecified
		"10.0.0.0/8",      // private
		"100.64.0.0/10",   // carrier-grade NAT
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, cloud metadata
		"172.16.0.0/12",   // private
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.88.99.0/24",  // 6to4 relay anycast
		"192.168.0.0/16",  // private
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, broadcast
	)
	blocked6 = prefixes(
		"::/96",          // unspecified, loopback, IPv4-compatible (deprecated)
		"64:ff9b:1::/48", // local-use NAT64
		"100::/64",       // discard
		"2001::/23",      // IETF protocol assignments, Teredo (2001::/32)
		"2001:db8::/32",  // documentation
		"3fff::/20",      // documentation
		"5f00::/16",      // segment routing SIDs
		"fc00::/7",       // unique local
		"fe80::/10",      // link-local
		"fec0::/10",      // site-local (deprecated)
		"ff00::/8",       // multicast
	)
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// CheckAddr reports whether ip may be dialed: a global unicast address
// outside every special-purpose range, with IPv4 addresses embedded in
// IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d, 6to4 2002:ab:cd::)
// judged as the IPv4 address they carry. With allowLoopback, 127.0.0.0/8
// and ::1 (also as ::ffff:127.x.y.z) are accepted; nothing else is.
func CheckAddr(ip netip.Addr, allowLoopback bool) error {
	if !ip.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrBlocked)
	}
	if ip.Zone() != "" {
		return fmt.Errorf("%w: %s has an IPv6 zone", ErrBlocked, ip)
	}
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if allowLoopback && ip.IsLoopback() {
		return nil
	}
	if ip.Is6() {
		for _, p := range blocked6 {
			if p.Contains(ip) {
				return fmt.Errorf("%w: %s is in %s", ErrBlocked, ip, p)
			}
		}
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			v4 := netip.AddrFrom4([4]byte(b[12:16]))
			if err := check4(v4); err != nil {
				return fmt.Errorf("%w: %s embeds %s", ErrBlocked, ip, v4)
			}
		case sixTo4.Contains(ip):
			v4 := netip.AddrFrom4([4]byte(b[2:6]))
			if err := check4(v4); err != nil {
				return fmt.Errorf("%w: %s embeds %s", ErrBlocked, ip, v4)
			}
		}
		if !ip.IsGlobalUnicast() {
			return fmt.Errorf("%w: %s is not a global unicast address", ErrBlocked, ip)
		}
		return nil
	}
	return check4(ip)
}

func check4(ip netip.Addr) error {
	for _, p := range blocked4 {
		if p.Contains(ip) {
			return fmt.Errorf("%w: %s is in %s", ErrBlocked, ip, p)
		}
	}
	if !ip.IsGlobalUnicast() {
		return fmt.Errorf("%w: %s is not a global unicast address", ErrBlocked, ip)
	}
	return nil
}
