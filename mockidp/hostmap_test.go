package mockidp_test

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ssokit/ssokit/mockidp"
)

// appServer serves "ok" over TLS with cert, counting its requests.
func appServer(t *testing.T, cert tls.Certificate) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "ok "+r.Host)
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s, &hits
}

func port(t *testing.T, rawURL string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(strings.TrimPrefix(rawURL, "https://"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A mock listening as https://idp.okta.test: its URLs use the name, its
// certificate carries it, its own client reaches it, and an app served
// with a certificate from its CA is reached by name on loopback.
func TestProductionLikeHostsOverTLS(t *testing.T) {
	t.Parallel()
	srv := mockidp.StartWith(t, mockidp.DefaultConfig(), mockidp.ListenOptions{TLS: true, Host: "IdP.Okta.test", Hostnames: []string{"*.login.okta.test"}})
	if !strings.HasPrefix(srv.URL, "https://idp.okta.test:") || !strings.HasPrefix(srv.Persona("okta").Issuer(), srv.URL+"/") {
		t.Fatalf("URL %s, issuer %s", srv.URL, srv.Persona("okta").Issuer())
	}
	resp, err := srv.Client().Get(srv.Persona("okta").DiscoveryURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("discovery through the server's client: %d", resp.StatusCode)
	}
	leaf := resp.TLS.PeerCertificates[0]
	for _, name := range []string{"idp.okta.test", "acme.login.okta.test", "localhost", "127.0.0.1"} {
		if err := leaf.VerifyHostname(name); err != nil {
			t.Errorf("the server certificate does not carry %s: %v", name, err)
		}
	}
	if err := leaf.VerifyHostname("evil.test"); err == nil {
		t.Error("the server certificate carries a name it was not given")
	}

	// SPKIHash is the CA's, as Chromium's --ignore-certificate-errors-spki-list takes it.
	block, _ := pem.Decode(srv.CACertPEM())
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
	if srv.SPKIHash() != base64.StdEncoding.EncodeToString(sum[:]) || leaf.CheckSignatureFrom(ca) != nil {
		t.Fatalf("SPKIHash %q", srv.SPKIHash())
	}

	cert, err := srv.IssueCertificate("app.example.test", "127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	if cert.Leaf == nil || len(cert.Certificate) != 2 || cert.Leaf.CheckSignatureFrom(ca) != nil {
		t.Fatal("IssueCertificate: not a leaf signed by the CA with its chain")
	}
	app, hits := appServer(t, cert)
	appURL := "https://app.example.test:" + port(t, app.URL) + "/"
	resp, err = srv.LoopbackClient("*.example.test").Get(appURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok app.example.test:"+port(t, app.URL) {
		t.Fatalf("app answered %q", body)
	}

	// Each refusal for its own reason.
	get := func(tr http.RoundTripper, u string) error {
		resp, err := (&http.Client{Transport: tr}).Get(u)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	mapped, _ := mockidp.LoopbackTransport(srv.CACertPEM(), "*.example.test")
	noCA, _ := mockidp.LoopbackTransport(nil, "*.example.test")
	exact, _ := mockidp.LoopbackTransport(srv.CACertPEM(), "app.example.test")
	other, _ := srv.IssueCertificate("other.example.test")
	wrong, _ := appServer(t, other)
	before := hits.Load()
	unknownCA := func(err error) bool { var e x509.UnknownAuthorityError; return errors.As(err, &e) }
	wrongName := func(err error) bool { var e x509.HostnameError; return errors.As(err, &e) }
	// Not mapped: the name goes to the resolver, which knows no .test name.
	resolved := func(err error) bool { var e *net.DNSError; return errors.As(err, &e) }
	for _, tc := range []struct {
		name string
		tr   http.RoundTripper
		url  string
		why  func(error) bool
	}{
		{"the system roots do not trust the mock CA", noCA, appURL, unknownCA},
		{"a certificate without the name", mapped, "https://app.example.test:" + port(t, wrong.URL) + "/", wrongName},
		{"the apex is not under *.example.test", mapped, "https://example.test:" + port(t, app.URL) + "/", resolved},
		{"an exact pattern maps no subdomain", exact, "https://x.app.example.test:" + port(t, app.URL) + "/", resolved},
		{"no pattern, no mapping", mustTransport(t, srv.CACertPEM()), appURL, resolved},
	} {
		if err := get(tc.tr, tc.url); err == nil || !tc.why(err) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if hits.Load() != before {
		t.Errorf("a refused request reached the app")
	}
	if err := get(exact, appURL); err != nil {
		t.Errorf("exact pattern: %v", err)
	}
}

func mustTransport(t *testing.T, caPEM []byte, patterns ...string) *http.Transport {
	t.Helper()
	tr, err := mockidp.LoopbackTransport(caPEM, patterns...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// Names that are not host names are refused wherever they are given, and
// a refused ListenWith leaves the server unstarted.
func TestHostNamesRefused(t *testing.T) {
	t.Parallel()
	srv, err := mockidp.New(mockidp.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, bad := range []string{"", "idp.okta.test:443", "https://idp.okta.test", "idp okta.test", "a..test", ".test", "test.",
		"-a.test", "a-.test", "a/b.test", "é.test", "*", "*.", "a.*.test", strings.Repeat("a", 64) + ".test", strings.Repeat("a.", 127) + "test"} {
		if _, err := srv.IssueCertificate(bad); err == nil {
			t.Errorf("IssueCertificate(%q) accepted", bad)
		}
		if _, err := mockidp.LoopbackTransport(nil, bad); err == nil {
			t.Errorf("LoopbackTransport pattern %q accepted", bad)
		}
		if bad != "" {
			if err := srv.ListenWith("127.0.0.1:0", mockidp.ListenOptions{TLS: true, Host: bad}); err == nil {
				t.Fatalf("ListenOptions.Host %q accepted", bad)
			}
			if err := srv.ListenWith("127.0.0.1:0", mockidp.ListenOptions{TLS: true, Hostnames: []string{"ok.test", bad}}); err == nil {
				t.Fatalf("ListenOptions.Hostnames %q accepted", bad)
			}
		}
	}
	if err := srv.ListenWith("127.0.0.1:0", mockidp.ListenOptions{Host: "*.okta.test"}); err == nil {
		t.Error("a wildcard Host accepted")
	}
	if _, err := srv.IssueCertificate(); err == nil {
		t.Error("a certificate without names issued")
	}
	if _, err := mockidp.LoopbackTransport([]byte("not PEM"), "a.test"); err == nil {
		t.Error("caPEM without a certificate accepted")
	}
	if srv.URL != "" {
		t.Fatalf("a refused ListenWith set URL %s", srv.URL)
	}
	// Still unstarted: it listens now.
	if err := srv.ListenWith("127.0.0.1:0", mockidp.ListenOptions{Host: "idp.okta.test"}); err != nil || !strings.HasPrefix(srv.URL, "http://idp.okta.test:") {
		t.Fatalf("ListenWith after refusals: %v %s", err, srv.URL)
	}
	if _, err := srv.Client().Get(srv.Persona("okta").DiscoveryURL()); err != nil {
		t.Fatalf("http server under a host name, through its client: %v", err)
	}
}
