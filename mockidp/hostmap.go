package mockidp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// LoopbackTransport returns an http.Transport that reaches host names the
// way production does while every server of the test listens on
// 127.0.0.1: a request to a host matching one of patterns is dialed at
// 127.0.0.1 on the URL's port (the URL, the Host header and the TLS
// server name keep the name), and any other host is dialed as usual. A
// pattern is a host name ("app.example.test", exact) or "*." and a
// domain ("*.okta.test": every name under okta.test, not okta.test
// itself); case does not matter. With caPEM, TLS trusts the CAs in it
// and no others (give Server.CACertPEM to trust the mock's CA and every
// IssueCertificate certificate); with nil, the system's roots.
//
//	tr, err := mockidp.LoopbackTransport(srv.CACertPEM(), "*.example.test", "*.okta.test")
//	client := &http.Client{Transport: tr, Jar: jar}
//	client.Get("https://app.example.test:" + port + "/") // dials 127.0.0.1:port
//
// A pattern that is not a host name, and caPEM holding no certificate,
// are refused.
func LoopbackTransport(caPEM []byte, patterns ...string) (*http.Transport, error) {
	var exact, suffixes []string
	for _, p := range patterns {
		if err := checkHostname(p); err != nil {
			return nil, fmt.Errorf("mockidp: loopback pattern: %w", err)
		}
		p = strings.ToLower(p)
		if rest, ok := strings.CutPrefix(p, "*."); ok {
			suffixes = append(suffixes, "."+rest)
		} else {
			exact = append(exact, p)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if caPEM != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("mockidp: LoopbackTransport: caPEM holds no PEM certificate")
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err == nil && loopbackMatch(strings.ToLower(strings.TrimSuffix(host, ".")), exact, suffixes) {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return d.DialContext(ctx, network, addr)
	}
	return tr, nil
}

func loopbackMatch(host string, exact, suffixes []string) bool {
	for _, e := range exact {
		if host == e {
			return true
		}
	}
	for _, s := range suffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// LoopbackClient is a client over LoopbackTransport that trusts the
// server's CA (when it has one) and dials on loopback the server's own
// ListenOptions.Host and Hostnames and every host matching patterns
// (e.g. "*.example.test" for the app under test). It follows redirects
// like http.DefaultClient and has no cookie jar; set one to act as a
// browser. It panics on a pattern that is not a host name, as
// regexp.MustCompile does: patterns are the test's constants.
func (s *Server) LoopbackClient(patterns ...string) *http.Client {
	tr, err := LoopbackTransport(s.CACertPEM(), append(append([]string(nil), s.hosts...), patterns...)...)
	if err != nil {
		panic(err)
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}
