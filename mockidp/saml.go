package mockidp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/ssokit/ssokit/internal/httpsec"
	"github.com/ssokit/ssokit/sso"
)

// samlIdP is a persona's SAML identity provider: crewjam's
// IdentityProvider for the protocol (request parsing and validation, ACS
// selection, metadata, logout), with this package's session provider,
// service provider registry, assertion maker and response writer, which
// builds the vendor's own wire shape.
type samlIdP struct {
	p   *Persona
	idp *saml.IdentityProvider

	keyOnce  sync.Once
	keyErr   error
	urlsOnce sync.Once
	cert     tls.Certificate // signing key and its self-signed certificate

	mu       sync.Mutex
	sps      map[string]*registeredSP // by ID and by entity ID
	last     map[string]string        // last base64 response per SP entity ID, for replay
	lastAny  string
	inflight sync.Map // *saml.IdpAuthnRequest -> *pendingLogin

	// rand is where generated IDs come from; nil means crypto/rand. Only
	// tests set it (saml_ids_test.go), to count what each ID reads.
	rand io.Reader
}

// random is the source of the persona's generated IDs.
func (s *samlIdP) random() io.Reader {
	if s.rand != nil {
		return s.rand
	}
	return rand.Reader
}

// registeredSP is a service provider known to a persona.
type registeredSP struct {
	cfg      ServiceProviderConfig
	metadata *saml.EntityDescriptor
}

type pendingLogin struct {
	user        UserConfig
	nameID      string
	nameIDFmt   string
	assertionID string
	session     *saml.Session
}

type ctxKey int

const requestACSKey ctxKey = 1

func newSAMLIdP(p *Persona) *samlIdP {
	s := &samlIdP{p: p}
	entity, _ := url.Parse(p.samlEntityID())
	idp := &saml.IdentityProvider{
		MetadataURL:             *entity,
		SessionProvider:         s,
		ServiceProviderProvider: s,
		AssertionMaker:          s,
		ResponseWriter:          s,
		Clock:                   dsig.NewFakeClock(personaClock{Clock: clockwork.NewRealClock(), p: p}),
		NameIDFormats: []saml.NameIDFormat{saml.NameIDFormat("urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"),
			saml.EmailAddressNameIDFormat},
		SignMetadata:          p.cfg.Vendor == sso.AzureAD,
		SendErrorResponses:    true,
		LimitRelayStateLength: true,
	}
	idp.OnError = func(w http.ResponseWriter, r *http.Request, status int, err error) {
		p.srv.log.Debug("mockidp: SAML request refused", "persona", p.cfg.Name, "status", status, "err", err)
		p.errorPage(w, status, "saml_error", samlErrorText(status))
	}
	if p.cfg.Vendor == sso.AzureAD {
		idp.NameIDFormats = append(idp.NameIDFormats, saml.PersistentNameIDFormat, saml.TransientNameIDFormat)
	}
	idp.Logger = crewjamLogger{s: s}
	s.idp = idp
	s.reset()
	return s
}

func samlErrorText(status int) string {
	if status >= 500 {
		return "The identity provider could not answer the SAML request."
	}
	return "The SAML request was refused: it is malformed, unsigned where a signature is required, or from an unknown service provider."
}

// personaClock is the persona's clock (server clock plus offset) for
// crewjam: its package clock is never touched.
type personaClock struct {
	clockwork.Clock
	p *Persona
}

func (c personaClock) Now() time.Time                  { return c.p.now() }
func (c personaClock) Since(t time.Time) time.Duration { return c.p.now().Sub(t) }
func (c personaClock) Until(t time.Time) time.Duration { return t.Sub(c.p.now()) }

// reset drops run-time service providers and registers the configured ones.
func (s *samlIdP) reset() {
	s.mu.Lock()
	s.sps = map[string]*registeredSP{}
	s.last = map[string]string{}
	s.lastAny = ""
	s.mu.Unlock()
	for _, c := range s.p.cfg.SAML.ServiceProviders {
		if err := s.register(context.Background(), c); err != nil {
			s.p.srv.log.Warn("mockidp: configured service provider not registered", "persona", s.p.cfg.Name, "err", err)
		}
	}
}

// keyPair returns the persona's SAML signing key and certificate, made on
// first use.
func (s *samlIdP) keyPair() (tls.Certificate, error) {
	s.keyOnce.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			s.keyErr = err
			return
		}
		s.cert, s.keyErr = selfSigned(key, s.p.samlEntityID())
		if s.keyErr == nil {
			s.idp.Key = key
			s.idp.Certificate = s.cert.Leaf
		}
	})
	return s.cert, s.keyErr
}

func selfSigned(key *rsa.PrivateKey, cn string) (tls.Certificate, error) {
	now := time.Now()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "ssokit mockidp " + cn, Organization: []string{"ssokit mockidp"}},
		NotBefore:    now.AddDate(-1, 0, 0),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// samlEntityID is the persona's IdP entity ID in its vendor's shape.
func (p *Persona) samlEntityID() string {
	if p.cfg.SAML.EntityID != "" {
		return p.cfg.SAML.EntityID
	}
	switch p.cfg.Vendor {
	case sso.Okta:
		return "http://www.okta.com/exk" + base62(p.hash("saml", "entity"), 17)
	case sso.AzureAD:
		return "https://sts.windows.net/" + p.tenant + "/"
	case sso.GoogleWorkspace:
		return "https://accounts.google.com/o/saml2?idpid=C" + base62(p.hash("saml", "entity"), 8)
	case sso.OneLogin:
		return "https://app.onelogin.com/saml/metadata/" + guid(p.hash("saml", "entity"))
	}
	return "JumpCloud"
}

// SAML endpoint paths under the persona's base URL.
const (
	samlMetadataPath     = "/saml/metadata"
	samlSSOPath          = "/saml/sso"
	samlSLOPath          = "/saml/slo"
	samlIDPInitiatedPath = "/saml/idp-initiated"
)

func (s *samlIdP) routes(mux httpsec.Registrar) {
	prefix := "/" + s.p.cfg.Name
	mux.HandleFunc("GET "+prefix+samlMetadataPath, s.serveMetadata)
	mux.HandleFunc("GET "+prefix+samlSSOPath, s.serveSSO)
	mux.HandleFunc("POST "+prefix+samlSSOPath, s.serveSSO)
	mux.HandleFunc("GET "+prefix+samlIDPInitiatedPath, s.serveIDPInitiated)
	mux.HandleFunc("POST "+prefix+samlIDPInitiatedPath, s.serveIDPInitiated)
	if s.p.cfg.Vendor != sso.GoogleWorkspace { // Google's SAML apps have no logout
		mux.HandleFunc("GET "+prefix+samlSLOPath, s.serveSLO)
		mux.HandleFunc("POST "+prefix+samlSLOPath, s.serveSLO)
	}
}

// prepare points crewjam's IdentityProvider at the current base URL and
// makes sure the signing key exists.
func (s *samlIdP) prepare() error {
	if _, err := s.keyPair(); err != nil {
		return err
	}
	// The base URL is fixed once the server serves.
	s.urlsOnce.Do(func() {
		base := s.p.base()
		ssoURL, _ := url.Parse(base + samlSSOPath)
		s.idp.SSOURL = *ssoURL
		if s.p.cfg.Vendor != sso.GoogleWorkspace {
			slo, _ := url.Parse(base + samlSLOPath)
			s.idp.LogoutURL = *slo
		}
	})
	return nil
}

func (s *samlIdP) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if err := s.prepare(); err != nil {
		http.Error(w, "key generation failed", http.StatusInternalServerError)
		return
	}
	buf, err := s.metadata()
	if err != nil {
		http.Error(w, "metadata could not be made", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(buf)
}

// metadata is crewjam's IdP metadata without the KeyDescriptor
// use="encryption" it always adds: the vendors publish only their signing
// certificate (Okta's metadata has one signing KeyDescriptor, Entra's
// federation metadata and Google's and OneLogin's likewise), so a service
// provider that encrypts to an IdP that publishes a key (a LogoutRequest's
// NameID, for one) must not find a key here that the vendor never
// publishes. Entra's is signed, with the Signature first (SAML Metadata
// 2.3.2) and an ID of Entra's shape, "_" and a GUID.
func (s *samlIdP) metadata() ([]byte, error) {
	md := s.idp.Metadata()
	for i := range md.IDPSSODescriptors {
		d := &md.IDPSSODescriptors[i]
		var kds []saml.KeyDescriptor
		for _, kd := range d.KeyDescriptors {
			if kd.Use != "encryption" {
				kds = append(kds, kd)
			}
		}
		d.KeyDescriptors = kds
	}
	if !s.idp.SignMetadata {
		return xml.MarshalIndent(md, "", "  ")
	}
	md.ID = underscoreGUID(rand.Reader)
	raw, err := xml.Marshal(md)
	if err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, err
	}
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(s.cert))
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return nil, err
	}
	sig, err := ctx.ConstructSignature(doc.Root(), true)
	if err != nil {
		return nil, err
	}
	doc.Root().InsertChildAt(0, sig)
	return doc.WriteToBytes()
}

func (s *samlIdP) serveSLO(w http.ResponseWriter, r *http.Request) {
	if err := s.prepare(); err != nil {
		http.Error(w, "key generation failed", http.StatusInternalServerError)
		return
	}
	// crewjam's logout pages auto-submit with its own two scripts.
	httpsec.Page(w.Header(), httpsec.CSP{Scripts: crewjamLogoutScripts, AnyFormAction: true})
	s.idp.ServeSLO(w, r)
}

// crewjamResponseScripts and crewjamLogoutScripts are the inline scripts
// of crewjam/saml's response and logout auto-submit forms, allowed by
// hash on the pages that write them.
var (
	crewjamResponseScripts = []string{
		"document.getElementById('SAMLSubmitButton').style.visibility='hidden';",
		"document.getElementById('SAMLResponseForm').submit();",
	}
	crewjamLogoutScripts = []string{
		"document.getElementById('SAMLSubmitButton').style.visibility='hidden';",
		"document.getElementById('SAMLRequestForm').submit();",
		"document.getElementById('SAMLResponseForm').submit();",
	}
)

func (s *samlIdP) serveSSO(w http.ResponseWriter, r *http.Request) {
	if err := s.prepare(); err != nil {
		http.Error(w, "key generation failed", http.StatusInternalServerError)
		return
	}
	if s.p.cfg.SAML.TrustAnySP {
		// Note the request's own ACS URL, which an unregistered service
		// provider is answered on (and only on).
		if pre, err := saml.NewIdpAuthnRequest(s.idp, r); err == nil {
			var ar saml.AuthnRequest
			if xml.Unmarshal(pre.RequestBuffer, &ar) == nil && ar.AssertionConsumerServiceURL != "" {
				r = r.WithContext(context.WithValue(r.Context(), requestACSKey, ar.AssertionConsumerServiceURL))
			}
		}
	}
	s.idp.ServeSSO(w, r)
}

// serveIDPInitiated posts an unsolicited response to the service provider
// named by ?sp= (its ID or entity ID), with ?RelayState=.
func (s *samlIdP) serveIDPInitiated(w http.ResponseWriter, r *http.Request) {
	if err := s.prepare(); err != nil {
		http.Error(w, "key generation failed", http.StatusInternalServerError)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.p.errorPage(w, http.StatusBadRequest, "invalid_request", "The request could not be parsed.")
		return
	}
	sp := r.Form.Get("sp")
	if sp == "" {
		s.p.errorPage(w, http.StatusBadRequest, "invalid_request", "Name the service provider with ?sp=.")
		return
	}
	s.idp.ServeIDPInitiated(w, r, sp, r.Form.Get("RelayState"))
}

// GetServiceProvider implements saml.ServiceProviderProvider.
func (s *samlIdP) GetServiceProvider(r *http.Request, id string) (*saml.EntityDescriptor, error) {
	s.mu.Lock()
	sp := s.sps[id]
	s.mu.Unlock()
	if sp != nil {
		return sp.metadata, nil
	}
	if acs, ok := r.Context().Value(requestACSKey).(string); ok && s.p.cfg.SAML.TrustAnySP {
		return spMetadata(id, acs), nil
	}
	return nil, os.ErrNotExist
}

func (s *samlIdP) spConfig(entityID string) ServiceProviderConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sp := s.sps[entityID]; sp != nil {
		return sp.cfg
	}
	return ServiceProviderConfig{}
}

func spMetadata(entityID, acs string) *saml.EntityDescriptor {
	return &saml.EntityDescriptor{EntityID: entityID, SPSSODescriptors: []saml.SPSSODescriptor{{
		SSODescriptor: saml.SSODescriptor{RoleDescriptor: saml.RoleDescriptor{
			ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol"}},
		AssertionConsumerServices: []saml.IndexedEndpoint{{Binding: saml.HTTPPostBinding, Location: acs, Index: 1}},
	}}}
}

// maxMetadata bounds service provider metadata, uploaded or fetched.
const maxMetadata = 1 << 20

// register adds a service provider from its metadata or entity ID and ACS.
func (s *samlIdP) register(ctx context.Context, c ServiceProviderConfig) error {
	if err := c.validate(); err != nil {
		return err
	}
	var md *saml.EntityDescriptor
	switch {
	case c.MetadataXML != "":
		m, err := parseSPMetadata([]byte(c.MetadataXML))
		if err != nil {
			return err
		}
		md = m
	case c.MetadataURL != "":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.MetadataURL, nil)
		if err != nil {
			return fmt.Errorf("metadata_url: %w", err)
		}
		client := &http.Client{Timeout: 10 * time.Second}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("fetching metadata_url: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("fetching metadata_url: status %d", resp.StatusCode)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadata+1))
		if err != nil {
			return fmt.Errorf("fetching metadata_url: %w", err)
		}
		if len(b) > maxMetadata {
			return errors.New("metadata larger than 1 MiB")
		}
		if md, err = parseSPMetadata(b); err != nil {
			return err
		}
	default:
		md = spMetadata(c.EntityID, c.ACSURL)
	}
	c.EntityID = md.EntityID
	if c.ID == "" {
		c.ID = md.EntityID
	}
	sp := &registeredSP{cfg: c, metadata: md}
	s.mu.Lock()
	s.sps[c.ID] = sp
	s.sps[md.EntityID] = sp
	s.mu.Unlock()
	return nil
}

func parseSPMetadata(b []byte) (*saml.EntityDescriptor, error) {
	if len(b) > maxMetadata {
		return nil, errors.New("metadata larger than 1 MiB")
	}
	if bytes.Contains(b, []byte("<!DOCTYPE")) || bytes.Contains(b, []byte("<!ENTITY")) {
		return nil, errors.New("metadata with a DOCTYPE is refused")
	}
	var md saml.EntityDescriptor
	if err := xml.Unmarshal(b, &md); err != nil {
		var eds saml.EntitiesDescriptor
		if xml.Unmarshal(b, &eds) == nil && len(eds.EntityDescriptors) == 1 {
			md = eds.EntityDescriptors[0]
		} else {
			return nil, fmt.Errorf("metadata is not a SAML EntityDescriptor: %w", err)
		}
	}
	if md.EntityID == "" || len(md.SPSSODescriptors) == 0 {
		return nil, errors.New("metadata has no entityID or no SPSSODescriptor")
	}
	hasACS := false
	for _, d := range md.SPSSODescriptors {
		for _, a := range d.AssertionConsumerServices {
			if u, err := url.Parse(a.Location); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
				hasACS = true
			}
		}
	}
	if !hasACS {
		return nil, errors.New("metadata has no http(s) AssertionConsumerService")
	}
	return &md, nil
}

// unregister removes a service provider.
func (s *samlIdP) unregister(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.sps[id]
	if sp == nil {
		return false
	}
	delete(s.sps, sp.cfg.ID)
	delete(s.sps, sp.metadata.EntityID)
	return true
}

// serviceProviders lists registrations, one per service provider.
func (s *samlIdP) serviceProviders() []ServiceProviderConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ServiceProviderConfig
	for k, sp := range s.sps {
		if k == sp.cfg.ID {
			out = append(out, sp.cfg)
		}
	}
	slices.SortFunc(out, func(a, b ServiceProviderConfig) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// crewjamLogger sends crewjam's log lines to the server's *slog.Logger at
// debug level (crewjam's default would write to stderr).
type crewjamLogger struct{ s *samlIdP }

func (l crewjamLogger) log(msg string) {
	l.s.p.srv.log.Debug("mockidp: saml: "+msg, "persona", l.s.p.cfg.Name)
}

func (l crewjamLogger) Printf(format string, v ...any) { l.log(fmt.Sprintf(format, v...)) }
func (l crewjamLogger) Print(v ...any)                 { l.log(fmt.Sprint(v...)) }
func (l crewjamLogger) Println(v ...any)               { l.log(fmt.Sprint(v...)) }

// The Fatal and Panic families exist on crewjam's interface; a mock
// server neither exits nor panics for a log line, it logs it.
func (l crewjamLogger) Fatal(v ...any)                 { l.Print(v...) }
func (l crewjamLogger) Fatalf(format string, v ...any) { l.Printf(format, v...) }
func (l crewjamLogger) Fatalln(v ...any)               { l.Println(v...) }
func (l crewjamLogger) Panic(v ...any)                 { l.Print(v...) }
func (l crewjamLogger) Panicf(format string, v ...any) { l.Printf(format, v...) }
func (l crewjamLogger) Panicln(v ...any)               { l.Println(v...) }

// InvalidateSession implements saml.SessionInvalidator. The mock keeps no
// browser session at the IdP (every login is fresh), so there is nothing to
// end and logout succeeds.
func (s *samlIdP) InvalidateSession(w http.ResponseWriter, r *http.Request, req *saml.IdpLogoutRequest) error {
	return nil
}
