package controlplane

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/middleware"
)

// SSOStatus is GET /v1/organizations/{org}/sso/status's answer.
type SSOStatus struct {
	SSOEnabled      bool    `json:"sso_enabled"`
	Provider        string  `json:"provider"`
	ConnectionState string  `json:"connection_state"`
	LastLogin       *string `json:"last_login"`
	TotalSSOUsers   int     `json:"total_sso_users"`
}

func (a *API) ssoStatus(w http.ResponseWriter, r *http.Request) {
	org, err := a.st.GetOrg(r.Context(), r.PathValue("org"))
	if err != nil {
		fail(w, http.StatusNotFound, codeNotFound, "no such organization")
		return
	}
	users, _ := a.st.ListUsers(r.Context(), org.ID)
	n := 0
	for _, u := range users {
		if u.Source == middleware.MethodSSO {
			n++
		}
	}
	st := SSOStatus{SSOEnabled: org.SSOConfigured && (org.ClerkOrgID != "" || len(org.Connection) > 0), Provider: org.LastSSOProvider,
		ConnectionState: "not_configured", TotalSSOUsers: n}
	if len(org.Connection) > 0 {
		var c idp.Connection
		if json.Unmarshal(org.Connection, &c) == nil {
			st.Provider = string(c.Vendor)
		}
		if _, err := a.connector(r.Context(), org); err != nil {
			st.ConnectionState = "error"
		} else {
			st.ConnectionState = "active"
		}
	} else if org.ClerkOrgID != "" {
		st.ConnectionState = "active"
		if !org.SSOConfigured {
			st.ConnectionState = "inactive"
		}
	}
	if !org.LastSSOLogin.IsZero() {
		s := org.LastSSOLogin.UTC().Format(time.RFC3339)
		st.LastLogin = &s
	}
	writeJSON(w, http.StatusOK, st)
}

// ssoTest is POST /v1/organizations/{org}/sso/test {login_hint}: a
// report of the org's direct connection, step by step.
func (a *API) ssoTest(w http.ResponseWriter, r *http.Request) {
	var body struct {
		LoginHint string `json:"login_hint"`
	}
	if !decode(w, r, &body) {
		return
	}
	org, err := a.st.GetOrg(r.Context(), r.PathValue("org"))
	if err != nil || len(org.Connection) == 0 {
		fail(w, http.StatusUnprocessableEntity, codeNoConnection, "the organization has no direct connection to test")
		return
	}
	conn, err := a.connector(r.Context(), org)
	if err != nil {
		writeJSON(w, http.StatusOK, idp.TestReport{Steps: []idp.TestStep{{Name: "configuration", Detail: err.Error()}}})
		return
	}
	client := a.cfg.IdP.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	writeJSON(w, http.StatusOK, idp.TestConnection(r.Context(), conn, client, body.LoginHint))
}
