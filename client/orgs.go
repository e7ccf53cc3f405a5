package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ssokit/ssokit/api"
)

// Create makes an organization (platform administrators only); plan ""
// means "free".
func (o *Organizations) Create(ctx context.Context, id, name, plan string) (api.Org, error) {
	var out api.Org
	err := o.c.do(ctx, http.MethodPost, "/v1/organizations", api.CreateOrgRequest{ID: id, Name: name, Plan: plan}, &out)
	return out, err
}

// Update sets the organization's fields that u gives.
func (o *Organizations) Update(ctx context.Context, org string, u api.UpdateOrgRequest) (api.Org, error) {
	var out api.Org
	err := o.c.do(ctx, http.MethodPatch, orgPath(org), u, &out)
	return out, err
}

// ConfigureSSO saves an organization's SSO settings, replacing the
// previous ones, and returns the organization as saved.
func (o *Organizations) ConfigureSSO(ctx context.Context, org string, s api.SSOSettings) (api.Org, error) {
	var out api.Org
	err := o.c.do(ctx, http.MethodPut, orgPath(org, "sso"), s, &out)
	return out, err
}

// SSOStatus reports an organization's SSO state.
func (o *Organizations) SSOStatus(ctx context.Context, org string) (api.SSOStatus, error) {
	var out api.SSOStatus
	err := o.c.do(ctx, http.MethodGet, orgPath(org, "sso", "status"), nil, &out)
	return out, err
}

// SSOEvents returns the organization's latest sign-in attempts, newest
// first, at most limit of them (zero: the server's default): "why was Pat
// refused?" for its administrators.
func (o *Organizations) SSOEvents(ctx context.Context, org string, limit int) ([]api.SSOEvent, error) {
	path := orgPath(org, "sso", "events")
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	var out api.SSOEvents
	err := o.c.do(ctx, http.MethodGet, path, nil, &out)
	return out.Events, err
}

// TestSSO checks an organization's direct IdP connection against what the
// identity provider publishes, step by step, without signing anyone in.
func (o *Organizations) TestSSO(ctx context.Context, org string) (api.SSOTestReport, error) {
	var out api.SSOTestReport
	err := o.c.do(ctx, http.MethodPost, orgPath(org, "sso", "test"), api.SSOTestRequest{}, &out)
	return out, err
}

// Users lists an organization's people.
func (o *Organizations) Users(ctx context.Context, org string) ([]api.User, error) {
	var out []api.User
	err := o.c.do(ctx, http.MethodGet, orgPath(org, "users"), nil, &out)
	return out, err
}

// SetRole changes a person's role; their sessions end. userID is the app's
// ID of the person (api.User.ID, api.Whoami.UserID).
func (o *Organizations) SetRole(ctx context.Context, org, userID, role string) (api.User, error) {
	var out api.User
	err := o.c.do(ctx, http.MethodPatch, orgPath(org, "users", userID), api.UpdateUserRequest{Role: role}, &out)
	return out, err
}

// RemoveUser removes a person.
func (o *Organizations) RemoveUser(ctx context.Context, org, userID string) error {
	return o.c.do(ctx, http.MethodDelete, orgPath(org, "users", userID), nil, nil)
}

// TestSignInURL is where an organization admin's browser starts a test
// sign-in through the organization's direct connection: a real sign-in at
// the IdP whose answer is the normalized identity (api.SSOTestReport),
// with no session started. loginHint, when not empty, names the account.
// The browser must carry the admin's session; the URL holds no secret.
func (o *Organizations) TestSignInURL(org, loginHint string) string {
	u := o.c.base + orgPath(org, "sso", "test", "start")
	if loginHint != "" {
		u += "?" + url.Values{"login_hint": {loginHint}}.Encode()
	}
	return u
}
