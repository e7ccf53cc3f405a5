package idp

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/ssokit/ssokit/sso"
)

// CheckStep is one step of CheckConnection and how it went. Detail says
// what was found, or what to fix when OK is false.
type CheckStep struct {
	// Name is the step: metadata, signing certificate, discovery, ...
	Name string `json:"name"`
	// OK reports whether it passed.
	OK bool `json:"ok"`
	// Detail is what was found, or what to fix.
	Detail string `json:"detail"`
}

// CheckReport is the outcome of CheckConnection, step by step. OK is true
// when every step passed. It holds no Identity: a check signs no one in.
type CheckReport struct {
	// OK reports whether every step passed.
	OK bool `json:"ok"`
	// Steps are in the order they ran; a failed step may end the check.
	Steps []CheckStep `json:"steps"`
}

// add records a step and reports whether it passed.
func (r *CheckReport) add(name string, err error, detail string) bool {
	s := CheckStep{Name: name, OK: err == nil, Detail: detail}
	if err != nil {
		s.Detail = err.Error()
	}
	r.Steps = append(r.Steps, s)
	return err == nil
}

// certWarning is how close to expiry a signing certificate is reported.
const certWarning = 30 * 24 * time.Hour

// CheckConnection is what an administrator's "test connection" button can
// honestly run on the server: it validates the connection's settings
// against what the identity provider publishes, without signing anyone in.
//
// For SAML it reads the IdP metadata (inline or by URL), checks its
// signing certificates' validity at opts.Now and its single sign-on
// endpoint, then builds the service provider. For OIDC it fetches
// discovery (the issuer must match exactly), fetches the JWKS and counts
// its usable keys, and asks the token endpoint whether it accepts the
// client credentials (by redeeming a code that cannot exist).
//
// A real sign-in that shows the administrator the normalized Identity is
// the ordinary Start / Finish flow of the Connector that New returns.
func CheckConnection(ctx context.Context, c Connection, opts Options) CheckReport {
	var rep CheckReport
	if len(opts.StateKey) == 0 {
		// The check starts no login: a throwaway key lets New build the
		// connector without asking the caller for the real one.
		opts.StateKey = []byte(randomToken(32))
	}
	opts, err := opts.prepare()
	if err != nil {
		rep.add("configuration", err, "")
		return rep
	}
	switch {
	case c.Protocol == sso.SAML && c.SAML != nil:
		checkSAML(ctx, &rep, c, opts)
	case c.Protocol == sso.OIDC && c.OIDC != nil:
		checkOIDC(ctx, &rep, c, opts)
	default:
		_, err := New(ctx, c, opts)
		if err == nil {
			err = fmt.Errorf("%w: protocol %q without its settings", ErrConfig, c.Protocol)
		}
		rep.add("configuration", err, "")
		return rep
	}
	rep.OK = true
	for _, s := range rep.Steps {
		rep.OK = rep.OK && s.OK
	}
	return rep
}

func checkSAML(ctx context.Context, rep *CheckReport, c Connection, opts Options) {
	md, err := idpMetadata(ctx, c.SAML, opts)
	if !rep.add("metadata", err, "") {
		return
	}
	rep.Steps[len(rep.Steps)-1].Detail = "entity ID " + md.EntityID
	d := md.IDPSSODescriptors[0]
	rep.Steps = append(rep.Steps, certificateStep(d, opts.now()), ssoServiceStep(d))
	_, err = New(ctx, c, opts)
	rep.add("service provider", err, "entity ID "+c.SAML.EntityID+", ACS "+c.SAML.ACSURL)
}

// certificateStep reports the IdP's signing certificates at now: at least
// one must be valid; one close to expiry is named so it can be renewed.
func certificateStep(d saml.IDPSSODescriptor, now time.Time) CheckStep {
	var valid, total int
	var notes []string
	for _, kd := range d.KeyDescriptors {
		if kd.Use != "" && kd.Use != "signing" {
			continue
		}
		for _, xc := range kd.KeyInfo.X509Data.X509Certificates {
			cert, err := parseCert(xc.Data)
			if err != nil {
				notes = append(notes, "an unreadable certificate")
				continue
			}
			total++
			notes = append(notes, certNote(cert, now))
			if !now.Before(cert.NotBefore) && !now.After(cert.NotAfter) {
				valid++
			}
		}
	}
	detail := fmt.Sprintf("%d of %d signing certificates valid: %s", valid, total, strings.Join(notes, "; "))
	if valid == 0 {
		return CheckStep{Name: "signing certificate", Detail: fmt.Sprintf("%v: no signing certificate is valid now (%s)", ErrConfig, strings.Join(notes, "; "))}
	}
	return CheckStep{Name: "signing certificate", OK: true, Detail: detail}
}

func certNote(cert *x509.Certificate, now time.Time) string {
	day := func(t time.Time) string { return t.UTC().Format("2006-01-02") }
	name := cert.Subject.CommonName
	if name == "" {
		name = "certificate"
	}
	switch {
	case now.Before(cert.NotBefore):
		return name + " not valid before " + day(cert.NotBefore)
	case now.After(cert.NotAfter):
		return name + " expired on " + day(cert.NotAfter)
	case cert.NotAfter.Sub(now) < certWarning:
		return name + " expires soon, on " + day(cert.NotAfter)
	}
	return name + " valid until " + day(cert.NotAfter)
}

// ssoServiceStep reports the SingleSignOnService a login will use.
func ssoServiceStep(d saml.IDPSSODescriptor) CheckStep {
	for _, s := range d.SingleSignOnServices {
		if s.Binding != saml.HTTPRedirectBinding && s.Binding != saml.HTTPPostBinding {
			continue
		}
		if _, err := checkHTTPURL("SingleSignOnService Location", s.Location); err != nil {
			return CheckStep{Name: "single sign-on service", Detail: err.Error()}
		}
		binding := "HTTP-Redirect"
		if s.Binding == saml.HTTPPostBinding {
			binding = "HTTP-POST"
		}
		return CheckStep{Name: "single sign-on service", OK: true, Detail: binding + " at " + trimQuery(s.Location)}
	}
	return CheckStep{Name: "single sign-on service", Detail: ErrConfig.Error() + ": no HTTP-Redirect or HTTP-POST SingleSignOnService"}
}

func checkOIDC(ctx context.Context, rep *CheckReport, c Connection, opts Options) {
	conn, err := newOIDC(ctx, c, opts)
	if !rep.add("discovery", err, "") {
		return
	}
	rep.Steps[len(rep.Steps)-1].Detail = "issuer " + c.OIDC.Issuer + ", keys at " + trimQuery(conn.jwksURI)
	keys, err := fetchJWKS(conn.opts.client(), conn.jwksURI)(ctx)
	if err == nil && len(keys) == 0 {
		err = fmt.Errorf("%w: the JWKS at %s has no usable signing key", ErrConfig, trimQuery(conn.jwksURI))
	} else if err != nil {
		err = fetchFailed(conn.opts, "keys", conn.jwksURI, err)
	}
	rep.add("signing keys", err, fmt.Sprintf("%d usable signing keys", len(keys)))
	rep.add("client credentials", conn.CheckClientSecret(ctx), "the token endpoint accepts the client ID and secret")
}

// trimQuery drops a URL's query, which may carry tenant-specific values
// an administrator's report does not need.
func trimQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}
