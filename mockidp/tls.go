package mockidp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// testCA is a certificate authority made for one server: it signs the
// server's own certificate and those IssueCertificate makes.
type testCA struct {
	certPEM []byte
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
}

// caLifetime bounds the CA and every certificate it signs.
const caLifetime = 7 * 24 * time.Hour

func newTestCA() (*testCA, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("mockidp: CA key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ssokit mockidp test CA", Organization: []string{"ssokit"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caLifetime),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("mockidp: CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	return &testCA{certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), cert: caCert, key: caKey}, nil
}

// checkHostname accepts a DNS name a certificate may carry: letters,
// digits, hyphens and dots, labels of 1 to 63 bytes, at most 253 bytes,
// optionally under one leading "*." wildcard label.
func checkHostname(name string) error {
	n := strings.TrimPrefix(name, "*.")
	if n == "" || len(n) > 253 || strings.HasSuffix(n, ".") {
		return fmt.Errorf("mockidp: %q is not a DNS name", name)
	}
	for label := range strings.SplitSeq(n, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("mockidp: %q is not a DNS name", name)
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("mockidp: %q is not a DNS name", name)
			}
		}
	}
	return nil
}

// issue signs a server certificate for names: IP addresses go in its IP
// SANs, DNS names (checkHostname) in its DNS SANs. The chain holds the CA
// certificate after the leaf.
func (ca *testCA) issue(names []string) (tls.Certificate, error) {
	if len(names) == 0 {
		return tls.Certificate{}, errors.New("mockidp: a certificate needs at least one name")
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: names[0]},
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    ca.cert.NotAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			continue
		}
		if err := checkHostname(n); err != nil {
			return tls.Certificate{}, err
		}
		tmpl.DNSNames = append(tmpl.DNSNames, strings.ToLower(n))
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl.SerialNumber = serial.Add(serial, big.NewInt(2))
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("mockidp: server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

// loopbackNames are the names every certificate of a listening server
// carries.
var loopbackNames = []string{"127.0.0.1", "::1", "localhost"}

// certificateAuthority returns the server's CA, made on first use.
func (s *Server) certificateAuthority() (*testCA, error) {
	s.caMu.Lock()
	defer s.caMu.Unlock()
	if s.ca == nil {
		ca, err := newTestCA()
		if err != nil {
			return nil, err
		}
		s.ca = ca
	}
	return s.ca, nil
}

// IssueCertificate signs a server certificate for names (DNS names, a
// leading "*." wildcard allowed, or IP addresses) with the server's CA,
// the one CACertPEM returns, valid for as long as the CA (7 days). Use it
// to serve another test server — the app under test at
// https://app.example.test, say — over TLS that every client trusting
// the mock's CA (LoopbackClient, Chromium given SPKIHash) accepts:
//
//	cert, err := srv.IssueCertificate("app.example.test")
//	app := httptest.NewUnstartedServer(handler)
//	app.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
//	app.StartTLS()
//
// The server need not listen over TLS itself: the CA is made on first
// use. A name that is neither an IP address nor a DNS name is refused.
func (s *Server) IssueCertificate(names ...string) (tls.Certificate, error) {
	ca, err := s.certificateAuthority()
	if err != nil {
		return tls.Certificate{}, err
	}
	return ca.issue(names)
}

// CACertPEM is the PEM certificate of the server's CA, which signed a TLS
// server's own certificate and every IssueCertificate certificate; nil
// while there is none (an http server that issued nothing).
func (s *Server) CACertPEM() []byte {
	s.caMu.Lock()
	defer s.caMu.Unlock()
	if s.ca == nil {
		return nil
	}
	return s.ca.certPEM
}

// SPKIHash is the base64 SHA-256 of the CA's SubjectPublicKeyInfo, the
// form Chromium's --ignore-certificate-errors-spki-list takes to trust
// the CA's certificates ("" while there is no CA). Chromium matches the
// hash against every certificate of the chain the server sends, and the
// mock's chains carry the CA.
func (s *Server) SPKIHash() string {
	s.caMu.Lock()
	defer s.caMu.Unlock()
	if s.ca == nil {
		return ""
	}
	sum := sha256.Sum256(s.ca.cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}
