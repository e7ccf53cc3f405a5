package controlplane

import (
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/crewjam/saml"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/sso"
	"github.com/ssokit/ssokit/store"
)

// samlMetadataContentType is SAML metadata's media type (SAML 2.0
// metadata, section 4.1.1).
const samlMetadataContentType = "application/samlmetadata+xml"

// samlMetadataURL is the public URL of an organization's SP metadata.
func (a *API) samlMetadataURL(orgID string) string {
	return strings.TrimSuffix(a.cfg.AppURL, "/") + "/auth/sso/saml/" + url.PathEscape(orgID) + "/metadata"
}

// acsURL and oidcRedirectURL are where this control plane receives an
// organization's direct SAML responses and OIDC codes.
func (a *API) acsURL(orgID string) string {
	return strings.TrimSuffix(a.cfg.AppURL, "/") + "/auth/sso/acs/" + url.PathEscape(orgID)
}

func (a *API) oidcRedirectURL(orgID string) string {
	return strings.TrimSuffix(a.cfg.AppURL, "/") + "/auth/sso/oidc/" + url.PathEscape(orgID)
}

// pinConnectionURLs holds a direct connection's own URLs to the ones this
// control plane serves for the organization: the SAML ACS URL and the OIDC
// redirect URL, filled in when left empty. Any other is refused (the
// message says which to give): a response addressed to another
// organization's ACS (its Destination and Recipient) would otherwise be
// accepted here too, once more under this organization's replay cache.
func (a *API) pinConnectionURLs(orgID string, c *idp.Connection) string {
	if c.SAML != nil {
		if msg := pinURL(&c.SAML.ACSURL, a.acsURL(orgID), "saml.acs_url", "ACS URL"); msg != "" {
			return msg
		}
	}
	if c.OIDC != nil {
		return pinURL(&c.OIDC.RedirectURL, a.oidcRedirectURL(orgID), "oidc.redirect_url", "redirect URL")
	}
	return ""
}

// pinURL fills *field with want when empty, and otherwise says what to
// give when it is not want.
func pinURL(field *string, want, name, what string) string {
	switch *field {
	case "":
		*field = want
	case want:
	default:
		return "connection." + name + " must be this organization's " + what + ", " + want + " (or left out)"
	}
	return ""
}

// samlConnection is the organization's direct SAML connection, when it has
// one.
func samlConnection(org store.Org) (idp.Connection, bool) {
	if len(org.Connection) == 0 {
		return idp.Connection{}, false
	}
	var c idp.Connection
	if json.Unmarshal(org.Connection, &c) != nil || c.Protocol != sso.SAML || c.SAML == nil {
		return idp.Connection{}, false
	}
	return c, true
}

// spMetadata is GET /auth/sso/saml/{org}/metadata: the service provider
// metadata of the organization's direct SAML connection, as the
// connector describes itself (entity ID, the ACS URL on the HTTP-POST
// binding, SLO URL, and the certificate it signs and decrypts with when it
// has one), for the
// organization's IdP to register the app from. It is public: metadata
// holds nothing secret. 404 when the organization has no direct SAML
// connection; 502 when the connection does not build.
func (a *API) spMetadata(w http.ResponseWriter, r *http.Request) {
	org, err := a.st.GetOrg(r.Context(), r.PathValue("org"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		fail(w, http.StatusNotFound, codeNotFound, "no direct SAML connection for this organization")
		return
	case err != nil:
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not read the organization")
		return
	}
	if _, ok := samlConnection(org); !ok {
		fail(w, http.StatusNotFound, codeNotFound, "no direct SAML connection for this organization")
		return
	}
	conn, err := a.connector(r.Context(), org)
	var b []byte
	if err == nil {
		md, ok := conn.(interface{ Metadata() ([]byte, error) })
		if !ok {
			err = errors.New("the connector publishes no metadata")
		} else if b, err = md.Metadata(); err == nil {
			b, err = postBindingOnly(b)
		}
	}
	if err != nil {
		a.log.Info("controlplane: SP metadata unavailable", "org", org.ID, "err", err)
		fail(w, http.StatusBadGateway, codeConnectionError, "the organization's identity provider connection is unusable")
		return
	}
	h := w.Header()
	h.Set("Content-Type", samlMetadataContentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
}

// postBindingOnly keeps, of the metadata's assertion consumer services,
// those on the HTTP-POST binding: the ACS route takes nothing else, and
// crewjam's metadata also lists HTTP-Artifact, which the app cannot
// resolve.
func postBindingOnly(b []byte) ([]byte, error) {
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(b, &ed); err != nil {
		return nil, err
	}
	for i := range ed.SPSSODescriptors {
		d := &ed.SPSSODescriptors[i]
		d.AssertionConsumerServices = slices.DeleteFunc(d.AssertionConsumerServices, func(e saml.IndexedEndpoint) bool {
			return e.Binding != saml.HTTPPostBinding
		})
	}
	return xml.MarshalIndent(ed, "", "  ")
}

// samlServiceProvider is GET /v1/organizations/{org}/sso/saml: what the
// organization's IdP administrator enters, from the stored connection
// (no network): entity ID, ACS URL, SLO URL, the metadata URL, and the
// signing certificate when the app signs its AuthnRequests
// (Config.IdP.SPKey and SPCertificate). 422 no_connection without a
// direct SAML connection.
func (a *API) samlServiceProvider(w http.ResponseWriter, r *http.Request) {
	org, ok := a.pathOrg(w, r)
	if !ok {
		return
	}
	c, ok := samlConnection(org)
	if !ok {
		fail(w, http.StatusUnprocessableEntity, codeNoConnection, "the organization has no direct SAML connection")
		return
	}
	out := api.SAMLServiceProvider{EntityID: c.SAML.EntityID, ACSURL: c.SAML.ACSURL, SLOURL: c.SAML.SLOURL, MetadataURL: a.samlMetadataURL(org.ID)}
	if a.cfg.IdP.SPKey != nil && a.cfg.IdP.SPCertificate != nil {
		out.SigningCertificatePEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.cfg.IdP.SPCertificate.Raw}))
	}
	writeJSON(w, http.StatusOK, out)
}
