package mockidp

import (
	"cmp"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/ssokit/ssokit/internal/httpsec"
)

// GetSession implements saml.SessionProvider: a queued user, the
// login_hint, the service provider's default user, or the login page.
func (s *samlIdP) GetSession(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest) *saml.Session {
	form := r.URL.Query()
	if r.Method == http.MethodPost {
		form = r.PostForm
	}
	fromPage := form.Get("mockidp_login") == "1"
	var email string
	switch {
	case fromPage:
		email = strings.TrimSpace(form.Get("email"))
	default:
		if e, ok := s.p.popQueue(); ok {
			email = e
		} else if h := form.Get("login_hint"); h != "" && !s.p.cfg.Interactive {
			email = h
		} else if req.ServiceProviderMetadata != nil && s.spConfig(req.ServiceProviderMetadata.EntityID).DefaultUser != "" {
			email = s.spConfig(req.ServiceProviderMetadata.EntityID).DefaultUser
		} else if req.Request.IsPassive != nil && *req.Request.IsPassive {
			// SAML Core 3.4.1: an IsPassive request gets no page; the
			// answer is Responder with NoPassive.
			if err := s.idp.SendErrorResponse(w, req, &saml.StatusError{TopLevel: saml.StatusResponder,
				SecondLevel: saml.StatusNoPassive, Message: "The user is not signed in and IsPassive forbids asking."}); err != nil {
				s.p.errorPage(w, http.StatusBadRequest, "saml_error", "The user is not signed in and IsPassive forbids asking.")
			}
			return nil
		} else {
			s.loginPage(w, r, "")
			return nil
		}
	}
	u, ok := s.p.User(email)
	if !ok {
		if fromPage {
			s.loginPage(w, r, s.p.prof.unknownUser)
			return nil
		}
		if err := s.idp.SendErrorResponse(w, req, &saml.StatusError{TopLevel: saml.StatusResponder,
			SecondLevel: saml.StatusAuthnFailed, Message: s.p.prof.unknownUser}); err != nil {
			s.p.errorPage(w, http.StatusBadRequest, "saml_error", s.p.prof.unknownUser)
		}
		return nil
	}
	now := s.p.now()
	return &saml.Session{ID: randomToken(16), CreateTime: now, ExpireTime: now.Add(time.Hour),
		UserEmail: u.Email, UserName: u.Email, UserGivenName: u.GivenName, UserSurname: u.FamilyName, Groups: u.Groups}
}

// loginPage shows the persona's sign-in page; its form sends the same
// SAML request back with the chosen email.
func (s *samlIdP) loginPage(w http.ResponseWriter, r *http.Request, errMsg string) {
	params := r.URL.Query()
	method := http.MethodGet
	if r.Method == http.MethodPost {
		params, method = r.PostForm, http.MethodPost
	}
	params = cloneValues(params)
	params.Del("mockidp_login")
	params.Del("email")
	status := http.StatusOK
	if errMsg != "" {
		status = http.StatusUnprocessableEntity
	}
	// The form posts (or gets) the same SAML request back here, which
	// answers with the auto-submit page, not a redirect.
	httpsec.Page(w.Header(), httpsec.CSP{InlineStyles: true, FormAction: []string{"'self'"}})
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, "login", map[string]any{
		"Title": "Sign in", "Vendor": s.p.cfg.Vendor, "Persona": s.p.cfg.Name, "Error": errMsg,
		"Action": r.URL.Path, "Method": strings.ToLower(method), "Params": params, "Users": s.p.Users(),
	})
}

// MakeAssertion implements saml.AssertionMaker. It decides the NameID and
// the assertion ID; the response writer builds the vendor's XML.
func (s *samlIdP) MakeAssertion(req *saml.IdpAuthnRequest, session *saml.Session) error {
	u, ok := s.p.User(session.UserEmail)
	if !ok {
		return &saml.StatusError{TopLevel: saml.StatusResponder, SecondLevel: saml.StatusAuthnFailed, Message: s.p.prof.unknownUser}
	}
	requested := ""
	if req.Request.NameIDPolicy != nil && req.Request.NameIDPolicy.Format != nil {
		requested = *req.Request.NameIDPolicy.Format
	}
	spEntity := req.ServiceProviderMetadata.EntityID
	format, value, err := s.nameIDFor(u, spEntity, requested, s.spConfig(spEntity))
	if err != nil {
		return err
	}
	aid := samlShapes[s.p.cfg.Vendor].assertID(s.random())
	req.Assertion = &saml.Assertion{ID: aid, IssueInstant: req.Now, Version: "2.0",
		Subject: &saml.Subject{NameID: &saml.NameID{Format: format, Value: value}}}
	s.inflight.Store(req, &pendingLogin{user: u, nameID: value, nameIDFmt: format, assertionID: aid, session: session})
	return nil
}

// WriteResponse implements saml.ResponseWriter: the vendor-shaped response
// in an auto-submitting HTTP-POST form.
func (s *samlIdP) WriteResponse(w http.ResponseWriter, req *saml.IdpAuthnRequest) error {
	v, ok := s.inflight.LoadAndDelete(req)
	if !ok {
		// An error Response crewjam made, in its own auto-submit form.
		httpsec.Page(w.Header(), httpsec.CSP{Scripts: crewjamResponseScripts, AnyFormAction: true})
		return req.WriteResponse(w)
	}
	pl := v.(*pendingLogin)
	if req.ACSEndpoint == nil {
		return errNoACS
	}
	force := req.Request.ForceAuthn != nil && *req.Request.ForceAuthn
	b64, err := s.respond(req.ServiceProviderMetadata, req.ACSEndpoint.Location, req.Request.ID, pl.user, pl.nameIDFmt, pl.nameID, pl.assertionID, force)
	if err != nil {
		return err
	}
	// The script by its hash. No form-action: Chromium applies it to every
	// redirect after the submission, and an ACS redirects on (a broker's
	// to the app, the app's to its page), so a policy of the ACS origin
	// alone stops the sign-in there (peers/browser shows it).
	httpsec.Page(w.Header(), httpsec.CSP{Scripts: []string{postFormScript}, AnyFormAction: true})
	return postForm.Execute(w, map[string]string{"URL": req.ACSEndpoint.Location, "SAMLResponse": b64, "RelayState": req.RelayState})
}

var postForm = template.Must(template.New("post").Parse(`<!doctype html><html><head><meta charset="utf-8"><title>Signing in</title></head>
<body><form method="post" action="{{.URL}}" id="SAMLResponseForm">
<input type="hidden" name="SAMLResponse" value="{{.SAMLResponse}}">
<input type="hidden" name="RelayState" value="{{.RelayState}}">
<noscript><button type="submit">Continue</button></noscript></form>
<script>` + postFormScript + `</script></body></html>`))

// postFormScript submits the SAML auto-submit form; the page's policy
// allows only it.
const postFormScript = `document.getElementById("SAMLResponseForm").submit()`

// spCerts returns the service provider's encryption certificate from its
// metadata (use="encryption", or a KeyDescriptor without use).
func spEncryptionCert(md *saml.EntityDescriptor) []byte {
	for _, d := range md.SPSSODescriptors {
		for _, kd := range d.KeyDescriptors {
			if kd.Use != "" && kd.Use != "encryption" {
				continue
			}
			for _, c := range kd.KeyInfo.X509Data.X509Certificates {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Data), ""))
				if err == nil {
					if _, err := x509.ParseCertificate(der); err == nil {
						return der
					}
				}
			}
		}
	}
	return nil
}

// respond makes the base64 SAMLResponse for one login, applying the armed
// SAML attacks, and remembers it for a replay.
func (s *samlIdP) respond(md *saml.EntityDescriptor, acs, inResponseTo string, u UserConfig, nameIDFmt, nameID, assertID string, force bool) (string, error) {
	cert, err := s.keyPair()
	if err != nil {
		return "", err
	}
	spEntity := md.EntityID
	sp := s.spConfig(spEntity)
	sh := samlShapes[s.p.cfg.Vendor]
	now := s.p.now()
	pp := &samlParams{sp: sp, spEntity: spEntity, acs: acs, inResponseTo: inResponseTo, user: u,
		nameID: nameID, nameIDFormat: nameIDFmt, responseID: sh.responseID(s.random()), assertID: assertID,
		issueInstant: now, notBefore: now.Add(-sh.before), notOnOrAfter: now.Add(sh.after), scdNotOnOrAfter: now.Add(sh.scd),
		audience: spEntity, destination: acs, recipient: acs, sign: sh.sign, sigAlg: cmp.Or(sp.SignatureAlgorithm, sh.sigAlg, "rsa-sha256"),
		authnInstant: now.Add(-2 * time.Second)}
	if age := s.p.cfg.SAML.SessionAgeSeconds; age > 0 && (!force || s.p.cfg.SAML.IgnoreForceAuthn) {
		pp.authnInstant = now.Add(-time.Duration(age) * time.Second)
	}
	if life := s.p.cfg.SAML.AssertionLifetimeSeconds; life > 0 {
		pp.notOnOrAfter = now.Add(time.Duration(life) * time.Second)
		pp.scdNotOnOrAfter = pp.notOnOrAfter
	}
	if s.p.cfg.SAML.Sign != "" {
		pp.sign = s.p.cfg.SAML.Sign
	}
	if sp.Sign != "" {
		pp.sign = sp.Sign
	}
	if sp.EncryptAssertions {
		if pp.encryptTo = spEncryptionCert(md); pp.encryptTo == nil {
			return "", errors.New("encrypt_assertions is set but the service provider's metadata has no encryption certificate")
		}
	}
	attacks := s.p.takeFaults(siteSAML)
	if hasFault(attacks, SAMLReplay) {
		s.mu.Lock()
		last := s.last[spEntity]
		s.mu.Unlock()
		if last != "" {
			return last, nil
		}
	}
	b64, err := s.attack(pp, cert, attacks)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.last[spEntity] = b64
	s.lastAny = b64
	s.mu.Unlock()
	return b64, nil
}

// LastSAMLResponse is the base64 SAMLResponse the persona sent last, to
// any service provider ("" before the first).
func (p *Persona) LastSAMLResponse() string {
	p.saml.mu.Lock()
	defer p.saml.mu.Unlock()
	return p.saml.lastAny
}

// SAMLResponse makes, without a browser, the base64 SAMLResponse the
// persona would post to the registered service provider sp (its ID or
// entity ID) for the user email, answering the AuthnRequest inResponseTo
// ("" for an IdP-initiated response). Armed SAML attacks apply to it.
func (p *Persona) SAMLResponse(sp, email, inResponseTo string) (string, error) {
	s := p.saml
	if err := s.prepare(); err != nil {
		return "", err
	}
	s.mu.Lock()
	reg := s.sps[sp]
	s.mu.Unlock()
	if reg == nil {
		return "", errors.New("mockidp: no service provider " + sp)
	}
	u, ok := p.User(email)
	if !ok {
		return "", errors.New("mockidp: no user " + email)
	}
	acs := ""
	for _, d := range reg.metadata.SPSSODescriptors {
		for _, a := range d.AssertionConsumerServices {
			if acs == "" && (a.Binding == saml.HTTPPostBinding || a.Binding == "") {
				acs = a.Location
			}
		}
	}
	if acs == "" {
		return "", errNoACS
	}
	format, value, err := s.nameIDFor(u, reg.metadata.EntityID, "", reg.cfg)
	if err != nil {
		return "", err
	}
	return s.respond(reg.metadata, acs, inResponseTo, u, format, value, samlShapes[p.cfg.Vendor].assertID(s.random()), false)
}

// NextResponse arms a SAML attack for the persona's next SAML response;
// it is InjectFault(attack, 1).
func (p *Persona) NextResponse(attack Fault) error {
	if faultCatalog[attack].Site != string(siteSAML) {
		return errors.New("mockidp: " + string(attack) + " is not a SAML attack")
	}
	return p.InjectFault(attack, 1)
}

// SAMLEntityID is the persona's SAML IdP entity ID.
func (p *Persona) SAMLEntityID() string { return p.samlEntityID() }

// SAMLMetadataURL is where the persona's IdP metadata is served.
func (p *Persona) SAMLMetadataURL() string { return p.base() + samlMetadataPath }

// SAMLSSOURL is the persona's SSO endpoint (HTTP-Redirect and HTTP-POST).
func (p *Persona) SAMLSSOURL() string { return p.base() + samlSSOPath }

// SAMLIDPInitiatedURL is the IdP-initiated login URL for a service provider
// and RelayState.
func (p *Persona) SAMLIDPInitiatedURL(sp, relayState string) string {
	v := url.Values{"sp": {sp}}
	if relayState != "" {
		v.Set("RelayState", relayState)
	}
	return p.base() + samlIDPInitiatedPath + "?" + v.Encode()
}

// SAMLCertificate is the persona's SAML signing certificate.
func (p *Persona) SAMLCertificate() (*x509.Certificate, error) {
	c, err := p.saml.keyPair()
	if err != nil {
		return nil, err
	}
	return c.Leaf, nil
}

// RegisterServiceProvider registers (or replaces) a SAML service provider.
func (p *Persona) RegisterServiceProvider(c ServiceProviderConfig) error {
	if err := p.saml.register(contextBackground(), c); err != nil {
		return fmt.Errorf("mockidp: %w", err)
	}
	return nil
}

// ServiceProviders lists the registered SAML service providers.
func (p *Persona) ServiceProviders() []ServiceProviderConfig { return p.saml.serviceProviders() }

// findChild returns el's first child element with the local name tag.
func findChild(el *etree.Element, tag string) *etree.Element {
	for _, c := range el.ChildElements() {
		if c.Tag == tag {
			return c
		}
	}
	return nil
}

// findDeep returns the first element below el with the local name tag.
func findDeep(el *etree.Element, tag string) *etree.Element {
	for _, c := range el.ChildElements() {
		if c.Tag == tag {
			return c
		}
		if d := findDeep(c, tag); d != nil {
			return d
		}
	}
	return nil
}
