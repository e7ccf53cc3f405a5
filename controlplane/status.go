package controlplane

import (
	"context"
	"errors"
	"net/http"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/samlconnection"
	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/sso"
	"github.com/ssokit/ssokit/store"
)

// ssoStatus is GET /v1/organizations/{org}/sso/status. The provider is the
// configured connection's: a direct connection's vendor, else the vendor
// of the Clerk organization's enterprise connection, else (Clerk names no
// vendor for custom connections) the IdP of the latest sign-in.
func (a *API) ssoStatus(w http.ResponseWriter, r *http.Request) {
	org, ok := a.pathOrg(w, r)
	if !ok {
		return
	}
	users, err := a.st.ListUsers(r.Context(), org.ID)
	if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not read")
		return
	}
	n := 0
	for _, u := range users {
		if u.Source == admission.MethodSSO {
			n++
		}
	}
	st := api.SSOStatus{SSOEnabled: org.SSOConfigured && (org.ClerkOrgID != "" || len(org.Connection) > 0), Provider: org.LastSSOProvider,
		ConnectionState: api.ConnectionNotConfigured, TotalSSOUsers: n, LastLogin: api.TimePtr(org.LastSSOLogin)}
	if len(org.Connection) > 0 {
		if c, err := a.orgConnection(org); err == nil {
			st.Provider = string(c.Vendor)
		}
		if _, err := a.connector(r.Context(), org); err != nil {
			st.ConnectionState = api.ConnectionError
		} else {
			st.ConnectionState = api.ConnectionActive
		}
	} else if org.ClerkOrgID != "" {
		if v := a.clerkProvider(r.Context(), org.ClerkOrgID); v != "" {
			st.Provider = v
		}
		st.ConnectionState = api.ConnectionActive
		if !org.SSOConfigured {
			st.ConnectionState = api.ConnectionInactive
		}
	}
	writeJSON(w, http.StatusOK, st)
}

// clerkProviders maps Clerk's enterprise-connection providers to vendors.
// Clerk's "saml_custom" and "oidc_custom" name no vendor.
var clerkProviders = map[string]sso.Vendor{"saml_okta": sso.Okta, "saml_microsoft": sso.AzureAD, "saml_google": sso.GoogleWorkspace}

// clerkProvider is the vendor of the active enterprise connection of a
// Clerk organization, read from the Backend API; "" when Clerk's API is
// not configured, unreachable, or names no vendor (the status then falls
// back to the IdP of the latest sign-in).
func (a *API) clerkProvider(ctx context.Context, clerkOrgID string) string {
	if a.clerkSAML == nil {
		return ""
	}
	params := &samlconnection.ListParams{}
	params.Limit = clerk.Int64(500)
	list, err := a.clerkSAML.List(ctx, params)
	if err != nil {
		a.log.Warn("controlplane: listing Clerk enterprise connections failed", "err", err)
		return ""
	}
	for _, c := range list.SAMLConnections {
		if c.Active && c.OrganizationID != nil && *c.OrganizationID == clerkOrgID {
			return string(clerkProviders[c.Provider])
		}
	}
	return ""
}

// ssoTest is POST /v1/organizations/{org}/sso/test {}: the org's direct
// connection checked against what its IdP publishes, step by step
// (idp.CheckConnection). It signs no one in.
func (a *API) ssoTest(w http.ResponseWriter, r *http.Request) {
	var body api.SSOTestRequest
	if !decode(w, r, &body) {
		return
	}
	org, err := a.st.GetOrg(r.Context(), r.PathValue("org"))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not read")
		return
	}
	if err != nil || len(org.Connection) == 0 {
		fail(w, http.StatusUnprocessableEntity, codeNoConnection, "the organization has no direct connection to test")
		return
	}
	conn, err := a.orgConnection(org)
	if err != nil {
		writeJSON(w, http.StatusOK, checkReportOut(idp.CheckReport{Steps: []idp.CheckStep{{Name: "configuration", Detail: "the stored connection does not decode or its secret does not open"}}}))
		return
	}
	writeJSON(w, http.StatusOK, checkReportOut(idp.CheckConnection(r.Context(), conn, a.cfg.IdP)))
}
