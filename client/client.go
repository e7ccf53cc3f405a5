// Package client is the Go client of ssokit's control-plane API (package
// controlplane): the calls an operator or an agent makes. Errors carry the
// API's stable codes.
//
//	c := client.New("https://app.example.com", client.BearerToken(adminKey), nil)
//	org, err := c.Organizations.ConfigureSSO(ctx, "acme", client.SSOSettings{ClerkOrgID: "org_...", AllowedDomains: []string{"acme.com"}})
//	var e *client.Error
//	if errors.As(err, &e) && e.Code == "plan_not_entitled" { ... }
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/store"
)

// Error is an API refusal: the HTTP status and the stable code.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("ssokit API: %d %s: %s", e.Status, e.Code, e.Message)
}

// Auth authenticates requests: set a header on each.
type Auth func(*http.Request)

// BearerToken authenticates with an API key (or the bootstrap key).
func BearerToken(tok string) Auth {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

// Client calls the API.
type Client struct {
	base string
	auth Auth
	http *http.Client

	Organizations *Organizations
	Auth          *AuthService
	APIKeys       *APIKeys
}

// New returns a client for the API at baseURL; httpClient nil means a
// client with a 30 s timeout (give one with a cookie jar for session auth).
func New(baseURL string, auth Auth, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	c := &Client{base: strings.TrimSuffix(baseURL, "/"), auth: auth, http: httpClient}
	c.Organizations, c.Auth, c.APIKeys = &Organizations{c}, &AuthService{c}, &APIKeys{c}
	return c
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.auth != nil {
		c.auth(req)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e controlplane.Error
		if json.Unmarshal(b, &e) != nil || e.Code == "" {
			e = controlplane.Error{Code: "http_" + fmt.Sprint(resp.StatusCode), Message: strings.TrimSpace(string(b))}
		}
		return &Error{Status: resp.StatusCode, Code: e.Code, Message: e.Message}
	}
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

// SSOSettings is an organization's SSO configuration.
type SSOSettings = controlplane.SSOSettings

// SSOStatus is an organization's SSO status.
type SSOStatus = controlplane.SSOStatus

// Whoami is the caller as the API sees it.
type Whoami = controlplane.Whoami

// Organizations manages organizations.
type Organizations struct{ c *Client }

// Create makes an organization (platform administrators).
func (o *Organizations) Create(ctx context.Context, id, name, plan string) (store.Org, error) {
	var out store.Org
	err := o.c.do(ctx, http.MethodPost, "/v1/organizations", map[string]string{"id": id, "name": name, "plan": plan}, &out)
	return out, err
}

// ConfigureSSO saves an organization's SSO settings.
func (o *Organizations) ConfigureSSO(ctx context.Context, org string, s SSOSettings) (store.Org, error) {
	var out store.Org
	err := o.c.do(ctx, http.MethodPut, "/v1/organizations/"+url.PathEscape(org)+"/sso", s, &out)
	return out, err
}

// Update is PATCH /v1/organizations/{org}: set the fields given.
type Update struct {
	RequireSSO        *bool   `json:"require_sso,omitempty"`
	DisableAPIKeyAuth *bool   `json:"disable_api_key_auth,omitempty"`
	Plan              *string `json:"plan,omitempty"`
	Name              *string `json:"name,omitempty"`
}

// Update changes an organization's switches.
func (o *Organizations) Update(ctx context.Context, org string, u Update) (store.Org, error) {
	var out store.Org
	err := o.c.do(ctx, http.MethodPatch, "/v1/organizations/"+url.PathEscape(org), u, &out)
	return out, err
}

// SSOStatus reports an organization's SSO state.
func (o *Organizations) SSOStatus(ctx context.Context, org string) (SSOStatus, error) {
	var out SSOStatus
	err := o.c.do(ctx, http.MethodGet, "/v1/organizations/"+url.PathEscape(org)+"/sso/status", nil, &out)
	return out, err
}

// Users lists an organization's people.
func (o *Organizations) Users(ctx context.Context, org string) ([]store.User, error) {
	var out []store.User
	err := o.c.do(ctx, http.MethodGet, "/v1/organizations/"+url.PathEscape(org)+"/users", nil, &out)
	return out, err
}

// SetRole changes a person's role (their sessions end).
func (o *Organizations) SetRole(ctx context.Context, org, userID, role string) (store.User, error) {
	var out store.User
	err := o.c.do(ctx, http.MethodPatch, "/v1/organizations/"+url.PathEscape(org)+"/users/"+url.PathEscape(userID), map[string]string{"role": role}, &out)
	return out, err
}

// RemoveUser removes a person.
func (o *Organizations) RemoveUser(ctx context.Context, org, userID string) error {
	return o.c.do(ctx, http.MethodDelete, "/v1/organizations/"+url.PathEscape(org)+"/users/"+url.PathEscape(userID), nil, nil)
}

// AuthService is the caller's own session.
type AuthService struct{ c *Client }

// WhoAmI returns the caller.
func (a *AuthService) WhoAmI(ctx context.Context) (Whoami, error) {
	var out Whoami
	err := a.c.do(ctx, http.MethodGet, "/v1/auth/whoami", nil, &out)
	return out, err
}

// Login signs in with a password (the client's cookie jar keeps the
// session).
func (a *AuthService) Login(ctx context.Context, org, email, password string) (Whoami, error) {
	var out Whoami
	err := a.c.do(ctx, http.MethodPost, "/v1/auth/login", map[string]string{"org": org, "email": email, "password": password}, &out)
	return out, err
}

// Logout ends the session.
func (a *AuthService) Logout(ctx context.Context) error {
	return a.c.do(ctx, http.MethodPost, "/v1/auth/logout", nil, nil)
}

// APIKeys manages an organization's agent keys.
type APIKeys struct{ c *Client }

// NewAPIKey is a created key with its plaintext, shown once.
type NewAPIKey = controlplane.NewAPIKey

// Create makes a key; expires zero means none.
func (k *APIKeys) Create(ctx context.Context, org, name, role string, expires time.Time) (NewAPIKey, error) {
	body := map[string]any{"name": name, "role": role}
	if !expires.IsZero() {
		body["expires_at"] = expires
	}
	var out NewAPIKey
	err := k.c.do(ctx, http.MethodPost, "/v1/organizations/"+url.PathEscape(org)+"/api-keys", body, &out)
	return out, err
}

// List lists keys (no secrets).
func (k *APIKeys) List(ctx context.Context, org string) ([]store.APIKey, error) {
	var out []store.APIKey
	err := k.c.do(ctx, http.MethodGet, "/v1/organizations/"+url.PathEscape(org)+"/api-keys", nil, &out)
	return out, err
}

// Revoke revokes a key.
func (k *APIKeys) Revoke(ctx context.Context, org, id string) error {
	return k.c.do(ctx, http.MethodDelete, "/v1/organizations/"+url.PathEscape(org)+"/api-keys/"+url.PathEscape(id), nil, nil)
}
