package idp

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/ssokit/ssokit/internal/state"
	"github.com/ssokit/ssokit/sso"
)

// SAMLLimits bound how long a SAML assertion may be valid and how old
// the authentication it reports may be. The zero value means the
// defaults, which every vendor's real shape meets (Entra ID's assertions
// are valid for 65 minutes, Okta's, Google's and JumpCloud's for 10,
// OneLogin's for 6; each reports the authentication of the login it
// answers).
type SAMLLimits struct {
	// MaxAssertionLifetime bounds NotOnOrAfter minus NotBefore (IssueInstant
	// when NotBefore is absent) of the Conditions, and NotOnOrAfter minus
	// IssueInstant of every SubjectConfirmationData: an assertion valid for
	// longer is refused (ReasonAssertionLifetime). Zero means
	// DefaultMaxAssertionLifetime.
	MaxAssertionLifetime time.Duration
	// MaxAuthnAge bounds how long ago the AuthnStatement's AuthnInstant
	// may be. IdP sessions of days are normal (Entra's "stay signed in",
	// Google Workspace), so an older one restarts the sign-in once with
	// ForceAuthn="true" (Finish returns ErrReauthenticate, having
	// redirected); only a second stale answer is refused
	// (ReasonAuthnTooOld). Zero means DefaultMaxAuthnAge.
	MaxAuthnAge time.Duration
}

// The defaults of SAMLLimits.
const (
	DefaultMaxAssertionLifetime = 2 * time.Hour
	DefaultMaxAuthnAge          = 12 * time.Hour
)

func (l SAMLLimits) lifetime() time.Duration {
	if l.MaxAssertionLifetime > 0 {
		return l.MaxAssertionLifetime
	}
	return DefaultMaxAssertionLifetime
}

func (l SAMLLimits) authnAge() time.Duration {
	if l.MaxAuthnAge > 0 {
		return l.MaxAuthnAge
	}
	return DefaultMaxAuthnAge
}

// Bounds on what a SAML login reads.
const (
	// MaxSAMLResponse bounds a SAML response (and so the ACS and logout
	// POST, which carries it base64-encoded), in decoded bytes; a larger
	// one is refused with ReasonTooLarge before any XML is parsed.
	MaxSAMLResponse = 512 << 10
	// MaxXMLDepth bounds the nesting of elements in a SAML response and in
	// IdP metadata. Real documents nest about a dozen deep; a deeper one
	// is refused before the XML libraries, whose canonicalization and
	// decoding recurse per level, see it. An encrypted assertion is only
	// ciphertext to this check; its plaintext is held to the same bounds
	// after a decryption of ssokit's own, before crewjam/saml decrypts it.
	MaxXMLDepth = 64
	// MaxXMLElements and MaxXMLAttributes bound the elements, and the
	// attributes (namespace declarations included), in a SAML response and
	// in IdP metadata. A response under MaxSAMLResponse has room for about
	// 3 000 group values as Okta writes them (three attributes each), so
	// no real one comes near; a crafted one of empty elements would cost
	// the XML libraries, which each read it whole, a third of a second of
	// CPU, and is refused after the one tokenizing pass of this check. The
	// plaintext of an encrypted assertion (anyone can encrypt to the SP's
	// published certificate) is held to the same bounds (encryptedShape).
	MaxXMLElements   = 10_000
	MaxXMLAttributes = 32_768
	// maxXMLComments bounds the comments and processing instructions in a
	// SAML response and in IdP metadata. Real ones have a handful at most;
	// goxmldsig's canonicalization removes comments one by one from their
	// parent, at a cost of its children each, so 65 000 of them (a 512 KiB
	// response) cost 13 s of CPU before the signature is found wrong.
	maxXMLComments = 1_000
	// maxMetadata bounds IdP metadata, pasted or fetched.
	maxMetadata = 1 << 20
	// maxSAMLPost bounds the body of an ACS or logout POST: the response,
	// base64-encoded, and room for RelayState and the form's other fields.
	maxSAMLPost = MaxSAMLResponse*4/3 + 16<<10
)

// xmlShape says what makes b too large to hand to the XML libraries:
// elements nested deeper than MaxXMLDepth, more than MaxXMLElements
// elements, MaxXMLAttributes attributes or maxXMLComments comments and
// processing instructions; "" when none. It reads tokens
// only until a bound is passed or the document ends; a syntax error is
// left to the real parse. It reads an encoding declaration as etree and
// crewjam do, passing the bytes through: without a CharsetReader,
// encoding/xml stops at one, and the bounds would not be checked.
func xmlShape(b []byte) string {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	depth, elements, attrs, comments := 0, 0, 0, 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			return ""
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch depth, elements, attrs = depth+1, elements+1, attrs+len(t.Attr); {
			case depth > MaxXMLDepth:
				return fmt.Sprintf("nests elements deeper than %d", MaxXMLDepth)
			case elements > MaxXMLElements:
				return fmt.Sprintf("has more than %d elements", MaxXMLElements)
			case attrs > MaxXMLAttributes:
				return fmt.Sprintf("has more than %d attributes", MaxXMLAttributes)
			}
		case xml.EndElement:
			depth--
		case xml.Comment, xml.ProcInst:
			if comments++; comments > maxXMLComments {
				return fmt.Sprintf("has more than %d comments and processing instructions", maxXMLComments)
			}
		}
	}
}

// ParseIdPMetadata reads identity provider metadata and says, in words an
// administrator can act on, what makes it unusable at now.
func ParseIdPMetadata(b []byte, now time.Time) (*saml.EntityDescriptor, error) {
	if len(b) > maxMetadata {
		return nil, fmt.Errorf("%w: the metadata is larger than 1 MiB", ErrConfig)
	}
	if bytes.Contains(b, []byte("<!DOCTYPE")) || bytes.Contains(b, []byte("<!ENTITY")) {
		return nil, fmt.Errorf("%w: the metadata has a DOCTYPE, which is refused", ErrConfig)
	}
	if shape := xmlShape(b); shape != "" {
		return nil, fmt.Errorf("%w: the metadata %s", ErrConfig, shape)
	}
	var md saml.EntityDescriptor
	var validUntil time.Time // the earliest validUntil of the entity and its EntitiesDescriptor
	if err := xml.Unmarshal(b, &md); err != nil {
		var set saml.EntitiesDescriptor
		if xml.Unmarshal(b, &set) != nil || len(set.EntityDescriptors) != 1 {
			return nil, fmt.Errorf("%w: the metadata is not SAML metadata XML (%v); paste the IdP's metadata document or give its URL", ErrConfig, err)
		}
		md = set.EntityDescriptors[0]
		if set.ValidUntil != nil {
			validUntil = *set.ValidUntil
		}
	}
	if !md.ValidUntil.IsZero() && (validUntil.IsZero() || md.ValidUntil.Before(validUntil)) {
		validUntil = md.ValidUntil
	}
	if !validUntil.IsZero() && !now.Before(validUntil) {
		// saml-metadata-2.0-os 4.3.1: expired metadata is not to be relied on.
		return nil, fmt.Errorf("%w: the metadata expired on %s (its validUntil): download fresh metadata from the IdP", ErrConfig, validUntil.UTC().Format(time.RFC3339))
	}
	if md.EntityID == "" {
		return nil, fmt.Errorf("%w: the metadata has no entityID", ErrConfig)
	}
	if len(md.IDPSSODescriptors) == 0 {
		if len(md.SPSSODescriptors) > 0 {
			return nil, fmt.Errorf("%w: the metadata describes a service provider (SPSSODescriptor), not an identity provider: use the IdP's metadata", ErrConfig)
		}
		return nil, fmt.Errorf("%w: the metadata has no IDPSSODescriptor", ErrConfig)
	}
	d := md.IDPSSODescriptors[0]
	sso := false
	for _, s := range d.SingleSignOnServices {
		if s.Binding == saml.HTTPRedirectBinding || s.Binding == saml.HTTPPostBinding {
			sso = true
		}
	}
	if !sso {
		return nil, fmt.Errorf("%w: the IdP offers no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding", ErrConfig)
	}
	// crewjam trusts the signing certificates of every IDPSSODescriptor,
	// and refuses every response when one of them does not parse.
	var certs, expired int
	var lastExpiry time.Time
	var unparsed error
	for _, d := range md.IDPSSODescriptors {
		for _, kd := range d.KeyDescriptors {
			if kd.Use != "" && kd.Use != "signing" {
				continue
			}
			for _, c := range kd.KeyInfo.X509Data.X509Certificates {
				cert, err := parseCert(c.Data)
				if err != nil {
					unparsed = err
					continue
				}
				if err := checkSigningKey(cert); err != nil {
					return nil, err
				}
				certs++
				if now.After(cert.NotAfter) {
					expired++
					lastExpiry = cert.NotAfter
				}
			}
		}
	}
	switch {
	case certs == 0:
		return nil, fmt.Errorf("%w: the metadata has no signing certificate (KeyDescriptor use=\"signing\" with an X509Certificate)", ErrConfig)
	case expired == certs:
		return nil, fmt.Errorf("%w: the IdP's signing certificate expired on %s: download fresh metadata from the IdP", ErrConfig, lastExpiry.UTC().Format("2006-01-02"))
	case unparsed != nil:
		return nil, fmt.Errorf("%w: a signing certificate of the metadata is not a base64 X.509 certificate (%v), and no response would verify: download fresh metadata from the IdP", ErrConfig, unparsed)
	}
	return &md, nil
}

// minRSABits is the smallest RSA key whose signatures the SP trusts. Every
// vendor ssokit profiles signs with 2048 bits or more; 1024-bit RSA has
// been disallowed for signatures since 2013 (NIST SP 800-131A).
const minRSABits = 2048

// checkSigningKey refuses an IdP signing certificate whose key is too weak
// to trust. crewjam trusts every signing certificate of the metadata, so
// one weak key is refused even beside strong ones: its signatures would
// be accepted as the IdP's.
func checkSigningKey(cert *x509.Certificate) error {
	weak := keyWeakness(cert.PublicKey)
	if weak == "" {
		return nil
	}
	return fmt.Errorf("%w: the IdP's signing certificate %q has %s, too weak to trust (RSA needs at least %d bits): have the IdP sign with a new certificate and use its fresh metadata",
		ErrConfig, cert.Subject.CommonName, weak, minRSABits)
}

// keyWeakness describes key when it is too weak to trust ("a 1024-bit RSA
// key"): RSA under minRSABits, ECDSA under 256 bits. It is "" for a strong
// key, and for a key of another type, which callers refuse on their own.
func keyWeakness(key crypto.PublicKey) string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < minRSABits {
			return fmt.Sprintf("a %d-bit RSA key", n)
		}
	case *ecdsa.PublicKey:
		if n := k.Curve.Params().BitSize; n < 256 {
			return fmt.Sprintf("a %d-bit ECDSA key", n)
		}
	}
	return ""
}

func parseCert(data string) (*x509.Certificate, error) {
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(data), ""))
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

var _ SingleLogout = (*samlConnector)(nil)

// samlConnector is a SAML service provider for one connection, on
// crewjam/saml's ServiceProvider with checks of its own on top.
type samlConnector struct {
	conn  Connection
	opts  Options
	sp    *saml.ServiceProvider
	state stateCodec
	idpID string
}

func newSAML(ctx context.Context, c Connection, opts Options) (*samlConnector, error) {
	s := c.SAML
	acs, err := checkHTTPURL("acs_url", s.ACSURL)
	if err != nil {
		return nil, err
	}
	if s.EntityID == "" {
		return nil, fmt.Errorf("%w: the connection needs our entity_id", ErrConfig)
	}
	md, err := idpMetadata(ctx, s, opts)
	if err != nil {
		return nil, err
	}
	metaURL, _ := url.Parse(s.EntityID)
	sp := &saml.ServiceProvider{
		EntityID:                s.EntityID,
		AcsURL:                  *acs,
		IDPMetadata:             md,
		AllowIDPInitiated:       s.AllowIDPInitiated,
		Clock:                   dsig.NewFakeClock(clock{Clock: clockwork.NewRealClock(), now: opts.now}),
		LimitRelayStateLength:   true,
		RejectUnknownConditions: false,
		Key:                     opts.SPKey,
		Certificate:             opts.SPCertificate,
		AuthnNameIDFormat:       saml.UnspecifiedNameIDFormat,
		RejectSHA1Signatures:    !s.AllowSHA1,
	}
	if metaURL != nil {
		sp.MetadataURL = *metaURL
	}
	if opts.SPKey != nil {
		// With a key, requests are signed and the metadata says so.
		sp.SignatureMethod = dsig.RSASHA256SignatureMethod
	}
	if s.SLOURL != "" {
		slo, err := checkHTTPURL("slo_url", s.SLOURL)
		if err != nil {
			return nil, err
		}
		sp.SloURL = *slo
		sp.LogoutBindings = []string{saml.HTTPPostBinding, saml.HTTPRedirectBinding}
	}
	switch {
	case s.NameIDFormat != "":
		sp.AuthnNameIDFormat = saml.NameIDFormat(s.NameIDFormat)
	case c.Vendor == sso.AzureAD:
		// Entra honours the policy: transient would mean a new NameID
		// every login.
		sp.AuthnNameIDFormat = saml.EmailAddressNameIDFormat
	}
	st, err := newStateCodec(opts, acs.Scheme == "https")
	if err != nil {
		return nil, err
	}
	return &samlConnector{conn: c, opts: opts, sp: sp, idpID: md.EntityID, state: st}, nil
}

func idpMetadata(ctx context.Context, s *SAMLSettings, opts Options) (*saml.EntityDescriptor, error) {
	switch {
	case s.IDPMetadataXML != "":
		return s.sameEntity(ParseIdPMetadata([]byte(s.IDPMetadataXML), opts.now()))
	case s.IDPMetadataURL != "":
		if _, err := checkFetchURL("idp_metadata_url", s.IDPMetadataURL, opts); err != nil {
			return nil, err
		}
		b, err := fetch(ctx, opts, s.IDPMetadataURL, maxMetadata)
		if err != nil {
			return nil, fetchFailed(opts, "metadata", s.IDPMetadataURL, err)
		}
		return s.sameEntity(ParseIdPMetadata(b, opts.now()))
	case s.IDPEntityID != "" && s.IDPSSOURL != "" && s.IDPCertificatePEM != "":
		if _, err := checkHTTPURL("idp_sso_url", s.IDPSSOURL); err != nil {
			return nil, err
		}
		block, _ := pem.Decode([]byte(s.IDPCertificatePEM))
		if block == nil || block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%w: idp_certificate_pem is not a PEM CERTIFICATE", ErrConfig)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: idp_certificate_pem: %v", ErrConfig, err)
		}
		if opts.now().After(cert.NotAfter) {
			return nil, fmt.Errorf("%w: the IdP's signing certificate expired on %s", ErrConfig, cert.NotAfter.UTC().Format("2006-01-02"))
		}
		if err := checkSigningKey(cert); err != nil {
			return nil, err
		}
		certData := base64.StdEncoding.EncodeToString(block.Bytes)
		return &saml.EntityDescriptor{EntityID: s.IDPEntityID, IDPSSODescriptors: []saml.IDPSSODescriptor{{
			SSODescriptor: saml.SSODescriptor{RoleDescriptor: saml.RoleDescriptor{
				ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol",
				KeyDescriptors: []saml.KeyDescriptor{{Use: "signing", KeyInfo: saml.KeyInfo{
					X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{{Data: certData}}}}}}}},
			SingleSignOnServices: []saml.Endpoint{{Binding: saml.HTTPRedirectBinding, Location: s.IDPSSOURL},
				{Binding: saml.HTTPPostBinding, Location: s.IDPSSOURL}},
		}}}, nil
	}
	return nil, fmt.Errorf("%w: give the IdP metadata (XML or URL), or its entity ID, SSO URL and certificate", ErrConfig)
}

// sameEntity passes on parsed metadata when the connection's IDPEntityID,
// if it names one, is the metadata's entityID: the administrator said
// which IdP to trust, and metadata of another one (a wrong paste, a URL
// that now serves another app's metadata) must not take its place.
func (s *SAMLSettings) sameEntity(md *saml.EntityDescriptor, err error) (*saml.EntityDescriptor, error) {
	if err != nil {
		return nil, err
	}
	if s.IDPEntityID != "" && s.IDPEntityID != md.EntityID {
		return nil, fmt.Errorf("%w: the metadata's entityID %q is not the connection's idp_entity_id %q: use the metadata of that IdP, or correct idp_entity_id",
			ErrConfig, md.EntityID, s.IDPEntityID)
	}
	return md, nil
}

// Connection returns the connection's settings.
func (s *samlConnector) Connection() Connection { return s.conn }

// Start sends the browser to the IdP with an AuthnRequest over
// HTTP-Redirect; the request ID is remembered in a cookie bound to this
// browser, under the RelayState.
func (s *samlConnector) Start(w http.ResponseWriter, r *http.Request, returnTo, loginHint string) error {
	return s.start(w, r, returnTo, loginHint, false)
}

// start is Start; force sets ForceAuthn="true" on the AuthnRequest and
// records in the state that this login was restarted for it.
func (s *samlConnector) start(w http.ResponseWriter, r *http.Request, returnTo, loginHint string, force bool) error {
	loc := s.sp.GetSSOBindingLocation(saml.HTTPRedirectBinding)
	if loc == "" {
		return fmt.Errorf("%w: the IdP has no HTTP-Redirect SSO endpoint", ErrConfig)
	}
	req, err := s.sp.MakeAuthenticationRequest(loc, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return fmt.Errorf("%w: making the AuthnRequest: %v", ErrConfig, err)
	}
	if force {
		t := true
		req.ForceAuthn = &t
	}
	relay := randomToken(24)
	u, err := req.Redirect(relay, s.sp)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if loginHint != "" { // Entra and the mock read it; others ignore it
		q := u.Query()
		q.Set("login_hint", loginHint)
		u.RawQuery = q.Encode()
	}
	if err := s.state.set(w, relay, state.Payload{ConnectionID: s.conn.ID, RequestID: req.ID, ReturnTo: localPath(returnTo), ForceAuthn: force}); err != nil {
		return err
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
	return nil
}

// Finish handles the ACS POST: size and DOCTYPE refused first, then
// crewjam's validation against the request tracked for this browser (or,
// when allowed, an unsolicited response), a stricter skew if configured,
// the replay cache, and the vendor profile.
func (s *samlConnector) Finish(w http.ResponseWriter, r *http.Request) (*Identity, string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSAMLPost)
	if err := r.ParseForm(); err != nil {
		return nil, "", refuse(ErrInvalidResponse, ReasonTooLarge, "the POST is too large or not a form: %v", err)
	}
	b64 := r.PostForm.Get("SAMLResponse")
	if b64 == "" {
		return nil, "", refuse(ErrInvalidResponse, ReasonMalformed, "no SAMLResponse")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		return nil, "", refuse(ErrInvalidResponse, ReasonMalformed, "SAMLResponse is not base64")
	}
	relay := r.PostForm.Get("RelayState")
	ids := []string{}
	returnTo := "/"
	forced := false
	if st, ok := s.state.take(w, r, relay, s.conn.ID); ok {
		ids = append(ids, st.RequestID)
		returnTo, forced = st.ReturnTo, st.ForceAuthn
	} else if s.conn.SAML.AllowIDPInitiated {
		ids = append(ids, "")
		returnTo = localPath(relay)
	}
	id, err := s.consume(r.Context(), raw, ids)
	if ReasonOf(err) == ReasonAuthnTooOld && errors.Is(err, ErrInvalidResponse) && !forced {
		s.opts.logger().Info("idp: SAML authentication too old; restarting with ForceAuthn", "connection", s.conn.ID, "err", err)
		if serr := s.start(w, r, returnTo, "", true); serr != nil {
			return nil, "", serr
		}
		return nil, "", &LoginError{Reason: ReasonAuthnTooOld, Detail: err.Error(), Err: ErrReauthenticate}
	}
	if err != nil {
		s.opts.logger().Info("idp: SAML login refused", "connection", s.conn.ID, "reason", ReasonOf(err), "err", err)
		return nil, "", err
	}
	return id, returnTo, nil
}

// consume validates a decoded response for the possible request IDs ("" for
// an unsolicited one) and returns the identity.
func (s *samlConnector) consume(ctx context.Context, raw []byte, ids []string) (*Identity, error) {
	as, err := s.parse(raw, ids)
	if err != nil {
		return nil, err
	}
	id, err := s.identity(ctx, as)
	if err != nil {
		return nil, vouched(err)
	}
	return id, nil
}

// parse checks the response's size and shape, then its signatures and
// addressing (crewjam's ParseXMLResponse), and returns the assertion.
func (s *samlConnector) parse(raw []byte, ids []string) (*saml.Assertion, error) {
	if len(raw) > MaxSAMLResponse {
		return nil, refuse(ErrInvalidResponse, ReasonTooLarge, "response is %d bytes, limit %d", len(raw), MaxSAMLResponse)
	}
	if bytes.Contains(raw, []byte("<!DOCTYPE")) || bytes.Contains(raw, []byte("<!ENTITY")) {
		return nil, refuse(ErrInvalidResponse, ReasonDoctype, "DOCTYPE or entity declaration in the response")
	}
	if shape := xmlShape(raw); shape != "" {
		return nil, refuse(ErrInvalidResponse, ReasonTooLarge, "the response %s", shape)
	}
	if len(ids) == 0 {
		if bytes.Contains(raw, []byte("InResponseTo=")) {
			return nil, refuse(ErrNoLogin, ReasonInResponseTo, "no login of this browser is waiting for the response")
		}
		return nil, refuse(ErrNoLogin, ReasonUnsolicited, "unsolicited response and IdP-initiated login is off")
	}
	if shape := s.encryptedShape(raw); shape != "" {
		return nil, refuse(ErrInvalidResponse, ReasonTooLarge, "the response %s", shape)
	}
	as, err := s.sp.ParseXMLResponse(raw, ids, s.sp.AcsURL)
	if err != nil {
		err = s.classify(err)
		if bytes.Contains(raw, []byte("EncryptedAssertion")) {
			err = opaqueDecryption(err)
		}
		return nil, err
	}
	return as, nil
}

// opaqueDecryption gives one answer to every refusal of an encrypted
// assertion that its ciphertext decides: it does not decrypt (the key's or
// the block cipher's padding, the authentication tag), or what it decrypts
// to is not XML, not signed, or not signed by the IdP. Told apart, they
// would be an oracle: the reason reaches the organization's SSO log, any
// organization admin can post to their own ACS a ciphertext taken from
// another organization's sign-in (every connection decrypts with the same
// service provider key), and with AES-CBC or RSA PKCS #1 v1.5 key
// transport, "does not decrypt" against "decrypts to something else",
// asked again and again, recovers the plaintext. Refusals the ciphertext
// does not decide (the Response's Destination, Issuer or status, the
// number of assertions) keep their reasons.
func opaqueDecryption(err error) error {
	switch ReasonOf(err) {
	case ReasonDecryption, ReasonMalformed, ReasonSignature, ReasonUntrustedCert:
		return refuse(ErrInvalidResponse, ReasonDecryption,
			"the encrypted assertion does not decrypt, with this service provider's key, to an assertion the IdP signed")
	}
	return err
}

// identity runs the checks after the signature verified (times, replay,
// the profile's claims, groups) and returns the identity.
func (s *samlConnector) identity(ctx context.Context, as *saml.Assertion) (*Identity, error) {
	now := s.opts.now()
	if err := s.checkTimes(as, now); err != nil {
		return nil, err
	}
	if skew := s.conn.SAML.MaxClockSkew; skew > 0 {
		if d := now.Sub(as.IssueInstant); d > skew || d < -skew {
			return nil, refuse(ErrInvalidResponse, ReasonExpired, "IssueInstant %s is beyond the connection's %s skew", as.IssueInstant, skew)
		}
		// An omitted NotOnOrAfter sets no end (SAML Core 2.5.1.2), as
		// for crewjam: the assertion's other deadlines still apply.
		if c := as.Conditions; c != nil && (now.Add(skew).Before(c.NotBefore) || !c.NotOnOrAfter.IsZero() && !now.Add(-skew).Before(c.NotOnOrAfter)) {
			return nil, refuse(ErrInvalidResponse, ReasonExpired, "Conditions outside the connection's %s skew", skew)
		}
		if !bearerWithin(as, now, skew) {
			return nil, refuse(ErrInvalidResponse, ReasonExpired, "no bearer SubjectConfirmationData within the connection's %s skew", skew)
		}
	}
	until := now.Add(saml.MaxIssueDelay + saml.MaxClockSkew)
	if c := as.Conditions; c != nil && !c.NotOnOrAfter.IsZero() {
		until = c.NotOnOrAfter.Add(saml.MaxClockSkew)
	}
	if err := consume(ctx, s.opts.ReplayCache, "saml\x00"+s.conn.ID+"\x00"+s.idpID+"\x00"+as.ID, until); err != nil {
		return nil, err
	}
	var resolve func(*Identity) ([]string, error)
	if r := s.opts.GroupResolver; r != nil {
		resolve = func(id *Identity) ([]string, error) {
			// A SAML login has no user access token: "" asks the
			// resolver for an app-only one.
			groups, err := r.ResolveGroups(ctx, id, "")
			switch {
			case errors.Is(err, ErrAppOnlyTenant):
				return nil, refuse(ErrNotAllowed, ReasonTenant, "%v", err)
			case errors.Is(err, ErrNoAppCredentials):
				return nil, refuse(ErrGroupOverage, ReasonGroupOverage,
					"Azure AD sent groups.link instead of the groups (more than 150) and a SAML login carries no access token: set GraphGroupResolver.AppCredentials (an app registration's client credentials with the GroupMember.Read.All application permission) (%v)", err)
			case err != nil:
				return nil, groupRefusal(s.opts.logger(), s.conn.ID, err)
			}
			return groups, nil
		}
	}
	return samlIdentityResolving(s.conn, as, resolve)
}

// bearerWithin reports whether a bearer SubjectConfirmationData of as is
// valid at now within skew (its NotBefore, when given, and NotOnOrAfter):
// crewjam holds them to its own 180 s, and one valid confirmation is
// enough, as for crewjam.
func bearerWithin(as *saml.Assertion, now time.Time, skew time.Duration) bool {
	if as.Subject == nil {
		return false
	}
	for _, sc := range as.Subject.SubjectConfirmations {
		d := sc.SubjectConfirmationData
		if sc.Method != "urn:oasis:names:tc:SAML:2.0:cm:bearer" || d == nil {
			continue
		}
		if !now.Add(skew).Before(d.NotBefore) && now.Add(-skew).Before(d.NotOnOrAfter) {
			return true
		}
	}
	return false
}

// checkTimes bounds the assertion's validity window and the age of its
// authentication (SAMLLimits).
func (s *samlConnector) checkTimes(as *saml.Assertion, now time.Time) error {
	maxLife := s.opts.SAML.lifetime()
	if c := as.Conditions; c != nil && !c.NotOnOrAfter.IsZero() {
		from := c.NotBefore
		if from.IsZero() {
			from = as.IssueInstant
		}
		if life := c.NotOnOrAfter.Sub(from); life > maxLife {
			return refuse(ErrInvalidResponse, ReasonAssertionLifetime, "the Conditions are valid for %s (NotBefore %s, NotOnOrAfter %s), more than %s",
				life, from.UTC().Format(time.RFC3339), c.NotOnOrAfter.UTC().Format(time.RFC3339), maxLife)
		}
	}
	if as.Subject != nil {
		for _, sc := range as.Subject.SubjectConfirmations {
			if d := sc.SubjectConfirmationData; d != nil && !d.NotOnOrAfter.IsZero() {
				if life := d.NotOnOrAfter.Sub(as.IssueInstant); life > maxLife {
					return refuse(ErrInvalidResponse, ReasonAssertionLifetime, "the SubjectConfirmationData is valid for %s after IssueInstant, more than %s", life, maxLife)
				}
			}
		}
	}
	maxAge := s.opts.SAML.authnAge()
	for _, st := range as.AuthnStatements {
		if st.AuthnInstant.IsZero() {
			return refuse(ErrInvalidResponse, ReasonMalformed, "an AuthnStatement without AuthnInstant")
		}
		if st.AuthnInstant.After(now.Add(saml.MaxClockSkew)) {
			return refuse(ErrInvalidResponse, ReasonNotYetValid, "AuthnInstant %s is in the future", st.AuthnInstant.UTC().Format(time.RFC3339))
		}
		if age := now.Sub(st.AuthnInstant); age > maxAge {
			return &LoginError{Reason: ReasonAuthnTooOld, Err: ErrInvalidResponse,
				Detail: fmt.Sprintf("AuthnInstant %s is %s old, more than %s", st.AuthnInstant.UTC().Format(time.RFC3339), age.Round(time.Second), maxAge)}
		}
	}
	return nil
}

// classify is classifySAML with the connection's vendor: a SHA-1
// signature refused by policy is ReasonAlgorithm, and the message says
// which setting of the IdP to change (or that the connection may allow
// SHA-1).
func (s *samlConnector) classify(err error) error {
	if isSHA1Refusal(err) {
		return refuse(ErrInvalidResponse, ReasonAlgorithm, "the IdP signed with SHA-1 (%s), which this connection refuses: %s, or set allow_sha1 on the connection to accept SHA-1 from this IdP",
			samlDetail(err), sha1Advice(s.conn.Vendor))
	}
	return classifySAML(err)
}

// isSHA1Refusal reports whether crewjam refused the response for its
// SHA-1 signature (RejectSHA1Signatures: the error matches ErrUnsupported
// and ends with crewjam's words for it, after the algorithm it names).
// Words elsewhere in an error quote the message (a Version, an unknown
// algorithm's URI), which anyone who posts chooses.
func isSHA1Refusal(err error) bool {
	return errors.Is(err, saml.ErrUnsupported) &&
		strings.HasSuffix(samlDetail(err), ": SHA-1 based signature algorithms are not accepted")
}

// sha1Advice is where each vendor's administrator switches the signature
// to SHA-256.
func sha1Advice(v sso.Vendor) string {
	switch v {
	case sso.Okta:
		return `in the Okta app's SAML settings (General > SAML Settings > Edit > Show Advanced Settings) set "Signature Algorithm: RSA-SHA256" and "Digest Algorithm: SHA256"`
	case sso.OneLogin:
		return `in the OneLogin app's SSO tab set "SAML Signature Algorithm: SHA-256"`
	case sso.AzureAD:
		return `in the Entra enterprise application's Single sign-on > SAML Certificates set "Signing Algorithm: SHA-256"`
	case sso.GoogleWorkspace:
		return "Google Workspace signs with RSA-SHA256: check that the metadata is the Google app's own"
	case sso.JumpCloud:
		return "JumpCloud signs with RSA-SHA256: check that the metadata is the JumpCloud application's own"
	}
	return "configure the IdP to sign with RSA-SHA256 (SHA-256 signature and digest)"
}

// samlDetail is crewjam's reason for a refusal: PrivateErr when it has
// one, else the error itself.
func samlDetail(err error) string {
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		return ire.PrivateErr.Error()
	}
	return err.Error()
}

// classifySAML turns crewjam's refusal (its reason is in PrivateErr) into
// a LoginError with a specific reason.
func classifySAML(err error) error {
	detail := samlDetail(err)
	var bad saml.ErrBadStatus
	var badp *saml.ErrBadStatus
	switch {
	case errors.As(err, &bad):
		// A LogoutResponse's refusal words the status; the status is the detail.
		return refuse(ErrIdPRefused, ReasonIdPError, "the IdP answered with status %s", bad.Status)
	case errors.As(err, &badp):
		return refuse(ErrIdPRefused, ReasonIdPError, "the IdP answered with status %s", badp.Status)
	case strings.HasPrefix(detail, "urn:oasis:names:tc:SAML:2.0:status:"):
		return refuse(ErrIdPRefused, ReasonIdPError, "the IdP answered with status %s", detail)
	}
	// crewjam words an assertion's wrong Issuer "issuer is not ...",
	// which the table's "Issuer" (the Response's) does not match; its
	// sentinel marks both.
	if errors.Is(err, saml.ErrIssuerMismatch) {
		return refuse(ErrInvalidResponse, ReasonIssuer, "%s", detail)
	}
	if errors.Is(err, saml.ErrInvalidSignature) {
		// A signature that does not verify: crewjam's words quote the
		// message's own Signature (its algorithm URIs), which anyone who
		// posts can choose, so only its sentinels name the reason.
		if errors.Is(err, saml.ErrUntrustedCertificate) {
			return refuse(ErrInvalidResponse, ReasonUntrustedCert, "%s", detail)
		}
		return refuse(ErrInvalidResponse, ReasonSignature, "%s", detail)
	}
	if errors.Is(err, saml.ErrMalformedMessage) && !strings.HasPrefix(detail, "an unsigned Response must contain exactly one Assertion") {
		// The words of a parse error quote the message (an element's
		// name, an attribute's value), which anyone who posts chooses.
		return refuse(ErrInvalidResponse, ReasonMalformed, "%s", detail)
	}
	// crewjam's sentinel names the check that refused. Its words may quote
	// the message (a Destination, a Version), which anyone who posts
	// chooses, so they decide only what no sentinel does.
	for _, m := range []struct {
		err    error
		reason string
	}{
		{saml.ErrDecryptionFailed, ReasonDecryption},
		{saml.ErrUntrustedCertificate, ReasonUntrustedCert},
		{saml.ErrAudienceMismatch, ReasonAudience},
		{saml.ErrDestinationMismatch, ReasonDestination},
		{saml.ErrRequestIDMismatch, ReasonInResponseTo},
		{saml.ErrNotYetValid, ReasonNotYetValid},
		{saml.ErrExpired, ReasonExpired},
		{saml.ErrAssertionReplayed, ReasonReplay},
		// Signed as required, but no login: no Conditions,
		// AuthnStatement, NameID or bearer confirmation, another SAML
		// Version, a BaseID.
		{saml.ErrMissingElement, ReasonMalformed},
		{saml.ErrUnsupported, ReasonMalformed},
	} {
		if !errors.Is(err, m.err) {
			continue
		}
		switch {
		case m.reason == ReasonDestination && strings.HasPrefix(detail, "assertion SubjectConfirmation Recipient is not "):
			// The bearer confirmation's Recipient, in crewjam's words
			// (they quote our ACS URL, not the message).
			return refuse(ErrInvalidResponse, ReasonRecipient, "%s", detail)
		case m.reason == ReasonReplay:
			return refuse(ErrReplayed, ReasonReplay, "%s", detail)
		}
		return refuse(ErrInvalidResponse, m.reason, "%s", detail)
	}
	reason := ReasonSignature
	for _, m := range []struct{ substr, reason string }{
		{"failed to decrypt", ReasonDecryption},
		{"exactly one Assertion", ReasonMultipleAssertions},
		{"trusted certs", ReasonUntrustedCert},
		{"AudienceRestriction", ReasonAudience},
		{"Destination", ReasonDestination},
		{"Recipient", ReasonRecipient},
		{"InResponseTo", ReasonInResponseTo},
		{"in the future", ReasonNotYetValid},
		{"NotBefore", ReasonNotYetValid},
		{"expired", ReasonExpired},
		{"NotOnOrAfter", ReasonExpired},
		{"Issuer", ReasonIssuer},
		{"XML syntax", ReasonMalformed},
		{"invalid xml", ReasonMalformed},
		{"too deep", ReasonMalformed},
	} {
		if strings.Contains(detail, m.substr) {
			reason = m.reason
			break
		}
	}
	return refuse(ErrInvalidResponse, reason, "%s", detail)
}

// StartLogout sends the browser to the IdP's single logout endpoint for the
// identity's session. The signed LogoutRequest's ID is kept in this
// browser's state, under the RelayState, for FinishLogout to match.
func (s *samlConnector) StartLogout(w http.ResponseWriter, r *http.Request, id *Identity) error {
	if s.sp.Key == nil {
		return fmt.Errorf("%w: single logout needs Options.SPKey and SPCertificate: IdPs refuse unsigned LogoutRequests", ErrConfig)
	}
	loc := s.sp.GetSLOBindingLocation(saml.HTTPRedirectBinding)
	if loc == "" {
		return fmt.Errorf("%w: the IdP offers no HTTP-Redirect logout", ErrConfig)
	}
	// The principal as the IdP issued it (SAML Core 3.7.1), Format
	// included: not the Format our AuthnRequests asked for, which an IdP
	// may not have used (JumpCloud's administrator picks it; Google sends
	// none).
	opts := []saml.LogoutRequestOption{func(req *saml.LogoutRequest) {
		if req.NameID != nil {
			req.NameID.Format = id.NameIDFormat
		}
	}}
	if id.SessionIndex != "" {
		opts = append(opts, saml.WithSessionIndex(id.SessionIndex))
	}
	req, err := s.sp.MakeLogoutRequest(loc, id.NameID, opts...)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	relay := randomToken(24)
	u, err := s.sp.RedirectLogoutRequestURL(req, relay)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if err := s.state.set(w, relay, state.Payload{ConnectionID: s.conn.ID, LogoutRequestIDs: []string{req.ID}}); err != nil {
		return err
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
	return nil
}

// FinishLogout checks the IdP's LogoutResponse: its signature and
// destination, and that it answers a LogoutRequest this browser was sent
// (InResponseTo against the IDs in the state under its RelayState, which is
// then cleared). An unsolicited response, one for another browser, and a
// replay (the same response again, here or in another browser) are
// refused with ErrNoLogin or ErrReplayed; any other refusal names its check
// as a login response's does (ErrIdPRefused for the IdP's error status,
// ReasonDestination, ReasonIssuer, ReasonExpired, ReasonAlgorithm, ...).
func (s *samlConnector) FinishLogout(w http.ResponseWriter, r *http.Request) error {
	relay := r.URL.Query().Get("RelayState")
	// crewjam's ParseForm reads the body of a PUT or PATCH too: bounded
	// and read here for each, so that logoutResponseShape sees it.
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		// Bounded whether or not the RelayState is in the query: the
		// response is parsed from this body below.
		r.Body = http.MaxBytesReader(w, r.Body, maxSAMLPost)
		if err := r.ParseForm(); err != nil {
			return refuse(ErrInvalidResponse, ReasonTooLarge, "logout response: the POST is too large or not a form: %v", err)
		}
		if relay == "" {
			relay = r.PostForm.Get("RelayState")
		}
	}
	st, ok := s.state.take(w, r, relay, s.conn.ID)
	if !ok || len(st.LogoutRequestIDs) == 0 {
		return refuse(ErrNoLogin, ReasonUnsolicited, "logout response: no logout of this browser is waiting for it")
	}
	if shape := logoutResponseShape(r); shape != "" {
		return refuse(ErrInvalidResponse, ReasonTooLarge, "logout response: %s", shape)
	}
	resp, err := s.sp.ParseLogoutResponse(r, st.LogoutRequestIDs)
	if err != nil {
		// By crewjam's sentinel: its words may quote the message.
		var ire *saml.InvalidResponseError
		if errors.As(err, &ire) && ire.PrivateErr != nil && errors.Is(ire.PrivateErr, saml.ErrRequestIDMismatch) {
			return refuse(ErrNoLogin, ReasonInResponseTo, "logout response: %v", ire.PrivateErr)
		}
		// Refused for the check that failed, as a login response is: the
		// IdP's error status, a wrong Destination or Issuer, a stale
		// IssueInstant, a SHA-1 signature; a bad signature only when it is.
		err = s.classify(err)
		var le *LoginError
		if errors.As(err, &le) {
			le.Detail = clip("logout response: "+le.Detail, maxDetail)
		}
		return err
	}
	until := s.opts.now().Add(saml.MaxIssueDelay + saml.MaxClockSkew)
	if err := consume(r.Context(), s.opts.ReplayCache, "slo\x00"+s.conn.ID+"\x00"+s.idpID+"\x00"+resp.ID, until); err != nil {
		return err
	}
	return nil
}

// logoutResponseShape holds the LogoutResponse of r, posted (base64) or
// in the query (base64 of DEFLATE), to a response's bounds before crewjam
// parses it: over MaxSAMLResponse decoded, or beyond xmlShape's bounds. A
// message that does not decode is left to crewjam, which refuses it.
func logoutResponseShape(r *http.Request) string {
	// Where crewjam reads it: the query first, whatever the method.
	enc, deflated := r.URL.Query().Get("SAMLResponse"), true
	if enc == "" {
		enc, deflated = r.PostForm.Get("SAMLResponse"), false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil || len(raw) == 0 {
		return ""
	}
	if deflated {
		inflated, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), MaxSAMLResponse+1))
		if err != nil && len(inflated) <= MaxSAMLResponse {
			return ""
		}
		raw = inflated
	}
	if len(raw) > MaxSAMLResponse {
		return fmt.Sprintf("over %d bytes", MaxSAMLResponse)
	}
	return xmlShape(raw)
}

// Metadata is our service provider metadata, for the IdP administrator.
func (s *samlConnector) Metadata() ([]byte, error) {
	return xml.MarshalIndent(s.sp.Metadata(), "", "  ")
}
