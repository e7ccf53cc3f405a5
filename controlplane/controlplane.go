// Package controlplane is the control plane's HTTP API as one mountable
// http.Handler: SSO start and callback (through Clerk, or a direct IdP
// connection), password login and logout, whoami, organization SSO
// settings and status, people, API keys, and Clerk webhooks. It is the
// library's wiring of middleware, idp, rbac and store; package client is
// its Go client.
package controlplane

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/samlconnection"
	clerksession "github.com/clerk/clerk-sdk-go/v2/session"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/store"
)

// Config wires the API.
type Config struct {
	// Auth authenticates requests and admits logins. Required; it needs
	// Sessions and Store.
	Auth *middleware.Authenticator
	// AppURL is the app's public URL (callbacks are built from it).
	AppURL string
	// ClerkSignInURL is the Clerk hosted sign-in (…/sign-in). Empty means
	// SSO through Clerk is off (direct connections still work).
	ClerkSignInURL string
	// ClerkAPIURL and ClerkSecretKey let logout revoke the Clerk session
	// and sso/status read the provider of a Clerk organization's
	// enterprise connection.
	ClerkAPIURL, ClerkSecretKey string
	// WebhookSecret (whsec_...) verifies Clerk webhooks; empty refuses them.
	WebhookSecret string
	// BootstrapAdminKey, as a Bearer token, is a platform administrator
	// (creates organizations, sets plans). Empty means none.
	BootstrapAdminKey string
	// AutoProvisionOrgs creates an app organization for each Clerk
	// organization.created webhook (plan "growth", no domains).
	AutoProvisionOrgs bool
	// IdP options for direct connections (HTTP client, keys...).
	IdP idp.Options
	// HTTPClient reaches Clerk's Backend API. Nil: 10 s timeout client.
	HTTPClient *http.Client
	// ErrorPage, when set, renders refusals on the browser-facing SSO
	// routes (status, stable code, human message). Nil: an HTML page when
	// the request accepts HTML, else the JSON error.
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int, code, message string)
	// Now; nil means time.Now. Logger; nil means silent.
	Now    func() time.Time
	Logger *slog.Logger
}

// API is the control-plane handler.
type API struct {
	cfg   Config
	auth  *middleware.Authenticator
	st    store.Store
	mux   *http.ServeMux
	h     http.Handler
	key   []byte // signs SSO start state
	now   func() time.Time
	log   *slog.Logger
	seen  sync.Map // svix-id -> time, replayed webhooks ignored
	conns sync.Map // org ID -> idp.Connector
	clerk *clerksession.Client
	// clerkConns reads the Clerk organizations' enterprise connections
	// (sso/status's provider); nil without ClerkSecretKey.
	clerkConns *samlconnection.Client
}

// PlatformAdmin is the role of the bootstrap key's principal.
const PlatformAdmin = "platform_admin"

// New validates cfg and builds the API.
func New(cfg Config) (*API, error) {
	if cfg.Auth == nil || cfg.Auth.Sessions() == nil || cfg.Auth.Store() == nil {
		return nil, errors.New("controlplane: Config.Auth needs Sessions and Store")
	}
	if _, err := url.Parse(cfg.AppURL); err != nil || cfg.AppURL == "" {
		return nil, errors.New("controlplane: Config.AppURL must be the app's absolute URL")
	}
	a := &API{cfg: cfg, auth: cfg.Auth, st: cfg.Auth.Store(), mux: http.NewServeMux(), now: cfg.Now, log: cfg.Logger}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.key = []byte(cfg.BootstrapAdminKey + "|" + cfg.AppURL + "|" + fmt.Sprint(a.now().UnixNano()))
	if cfg.ClerkSecretKey != "" {
		u, k := cfg.ClerkAPIURL, cfg.ClerkSecretKey
		if u == "" {
			u = middleware.DefaultClerkAPIURL
		}
		hc := cfg.HTTPClient
		if hc == nil {
			hc = &http.Client{Timeout: 10 * time.Second}
		}
		cc := &clerk.ClientConfig{BackendConfig: clerk.BackendConfig{HTTPClient: hc, URL: &u, Key: &k}}
		a.clerk, a.clerkConns = clerksession.NewClient(cc), samlconnection.NewClient(cc)
	}
	a.routes()
	cop := http.NewCrossOriginProtection()
	a.h = cop.Handler(a.mux)
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
	a.h.ServeHTTP(w, r)
}
