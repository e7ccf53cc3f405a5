package mockidp

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/ssokit/ssokit/internal/httpsec"
	"github.com/ssokit/ssokit/sso"
)

// Listing is what GET / answers: every persona with its issuers, clients
// and users (and, from the Clerk side, the Clerk instances).
type Listing struct {
	// Personas in configuration order.
	Personas []PersonaListing `json:"personas"`
	// Clerk lists the mock Clerk instances (empty, never null).
	Clerk []ClerkListing `json:"clerk"`
}

// ClerkListing describes a mock Clerk instance: what an app configures.
type ClerkListing struct {
	// Name is the instance's name and path prefix.
	Name string `json:"name"`
	// FrontendAPIURL is the Frontend API and the session tokens' issuer.
	FrontendAPIURL string `json:"frontend_api_url"`
	// BackendAPIURL is the Backend API base, ending in /v1.
	BackendAPIURL string `json:"backend_api_url"`
	// SignInURL is the hosted sign-in page.
	SignInURL string `json:"sign_in_url"`
	// PublishableKey encodes the Frontend API host, as Clerk's do.
	PublishableKey string `json:"publishable_key"`
	// SecretKey authenticates Backend API calls.
	SecretKey string `json:"secret_key"`
	// WebhookSigningSecret (whsec_...) signs webhook deliveries.
	WebhookSigningSecret string `json:"webhook_signing_secret"`
}

// PersonaListing describes one persona in the Listing.
type PersonaListing struct {
	// Name is the persona's name and path prefix.
	Name string `json:"name"`
	// Vendor is the product it imitates.
	Vendor sso.Vendor `json:"vendor"`
	// Tenant is the Azure AD tenant GUID (Azure personas only).
	Tenant string `json:"tenant,omitempty"`
	// OIDC and SAML are its endpoints per protocol.
	OIDC OIDCListing `json:"oidc"`
	SAML SAMLListing `json:"saml"`
	// Clients and Users are the registered OIDC clients and the people
	// who can sign in.
	Clients []ClientListing `json:"clients"`
	Users   []UserListing   `json:"users"`
}

// OIDCListing names a persona's OIDC issuers.
type OIDCListing struct {
	// Issuer is the primary issuer; DiscoveryURL its discovery document.
	Issuer       string `json:"issuer"`
	DiscoveryURL string `json:"discovery_url"`
	// OtherIssuers are the vendor's other authorization servers (Okta's
	// org and custom servers, Azure's v1 endpoint).
	OtherIssuers []string `json:"other_issuers"`
	// OtherDiscoveryURLs are the discovery documents of OtherIssuers.
	OtherDiscoveryURLs []string `json:"other_discovery_urls"`
}

// SAMLListing names a persona's SAML endpoints. The IdP-initiated URL
// takes ?sp={service provider ID or entity ID}&RelayState=....
type SAMLListing struct {
	// EntityID is the IdP's issuer; MetadataURL serves its metadata.
	EntityID    string `json:"entity_id"`
	MetadataURL string `json:"metadata_url"`
	// SSOURL receives AuthnRequests (HTTP-Redirect and HTTP-POST).
	SSOURL string `json:"sso_url"`
	// IDPInitiatedURL starts an unsolicited login to a service provider.
	IDPInitiatedURL string `json:"idp_initiated_url"`
	// ServiceProviders are the entity IDs of the registered SPs.
	ServiceProviders []string `json:"service_providers"`
}

// ClientListing is a registered client as listed.
type ClientListing struct {
	// ClientID and ClientSecret are the client's credentials.
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// RedirectURIs are where the persona may send the code.
	RedirectURIs []string `json:"redirect_uris"`
	// TokenEndpointAuthMethod is how the client authenticates.
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method"`
}

// UserListing is a user as listed, with the vendor-shaped ID and, for
// Azure AD, the group object IDs the persona sends.
type UserListing struct {
	// Email is the sign-in name (the login_hint).
	Email string `json:"email"`
	// ID is the vendor-shaped user ID (Okta 00u..., an Azure object ID).
	ID string `json:"id"`
	// GivenName and FamilyName are the person's names.
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	// Groups are the group names; GroupIDs the object IDs Azure sends.
	Groups   []string `json:"groups"`
	GroupIDs []string `json:"group_ids,omitempty"`
}

// Listing describes the server as GET / does.
// withoutSecrets is l with every secret (Clerk secret keys, webhook
// signing secrets, client secrets) left out.
func (l Listing) withoutSecrets() Listing {
	out := l
	out.Clerk = append([]ClerkListing(nil), l.Clerk...)
	for i := range out.Clerk {
		out.Clerk[i].SecretKey, out.Clerk[i].WebhookSigningSecret = "", ""
	}
	out.Personas = append([]PersonaListing(nil), l.Personas...)
	for i := range out.Personas {
		p := &out.Personas[i]
		p.Clients = append([]ClientListing(nil), p.Clients...)
		for j := range p.Clients {
			p.Clients[j].ClientSecret = ""
		}
	}
	return out
}

func (s *Server) Listing() Listing {
	l := Listing{Personas: []PersonaListing{}, Clerk: []ClerkListing{}}
	for _, c := range s.clerks {
		l.Clerk = append(l.Clerk, ClerkListing{Name: c.Name(), FrontendAPIURL: c.FrontendAPIURL(), BackendAPIURL: c.BackendAPIURL(),
			SignInURL: c.SignInURL(), PublishableKey: c.PublishableKey(), SecretKey: c.SecretKey(), WebhookSigningSecret: c.WebhookSigningSecret()})
	}
	for _, p := range s.personas {
		pl := PersonaListing{Name: p.cfg.Name, Vendor: p.cfg.Vendor,
			OIDC: OIDCListing{Issuer: p.Issuer(), DiscoveryURL: p.DiscoveryURL(),
				OtherIssuers: nonNil(p.OtherIssuers()), OtherDiscoveryURLs: nonNil(p.OtherDiscoveryURLs())}}
		if p.cfg.Vendor == sso.AzureAD {
			pl.Tenant = p.tenant
		}
		pl.SAML = SAMLListing{EntityID: p.samlEntityID(), MetadataURL: p.SAMLMetadataURL(), SSOURL: p.SAMLSSOURL(),
			IDPInitiatedURL: p.base() + samlIDPInitiatedPath, ServiceProviders: []string{}}
		for _, sp := range p.ServiceProviders() {
			pl.SAML.ServiceProviders = append(pl.SAML.ServiceProviders, sp.ID)
		}
		for _, c := range p.Clients() {
			pl.Clients = append(pl.Clients, ClientListing{ClientID: c.ClientID, ClientSecret: c.ClientSecret,
				RedirectURIs: c.RedirectURIs, TokenEndpointAuthMethod: p.authMethod(c)})
		}
		for _, u := range p.Users() {
			ul := UserListing{Email: u.Email, ID: p.userID(&u), GivenName: u.GivenName, FamilyName: u.FamilyName, Groups: nonNil(u.Groups)}
			if p.cfg.Vendor == sso.AzureAD {
				ul.GroupIDs = p.groupIDs(u.Groups)
			}
			pl.Users = append(pl.Users, ul)
		}
		l.Personas = append(l.Personas, pl)
	}
	return l
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	admin := s.hasAdminToken(r)
	if why := s.sameSite(r); why != "" && !admin {
		http.Error(w, why, http.StatusForbidden)
		return
	}
	l := s.Listing()
	// The credentials are the admin's to read: with an admin token, whoever
	// sends it; without one, a loopback caller, as for the admin API.
	if s.cfg.AdminToken != "" && !admin || s.cfg.AdminToken == "" && !loopbackPeer(r.RemoteAddr) {
		l = l.withoutSecrets()
	}
	if prefersHTML(r.Header.Get("Accept")) {
		httpsec.Page(w.Header(), httpsec.CSP{InlineStyles: true})
		_ = pages.ExecuteTemplate(w, "index", map[string]any{"Title": "ssokit mockidp", "Personas": l.Personas})
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// prefersHTML reports whether an Accept header ranks text/html above JSON.
func prefersHTML(accept string) bool {
	best := func(want string) float64 {
		q := -1.0
		for _, part := range strings.Split(accept, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mt != want {
				continue
			}
			v := 1.0
			if s, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(s, 64); err == nil {
					v = f
				}
			}
			if v > q {
				q = v
			}
		}
		return q
	}
	html, js := best("text/html"), best("application/json")
	return html > 0 && html > js
}
