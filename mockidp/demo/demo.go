package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/controlplane/dashboard"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/ssometrics"
	"github.com/ssokit/ssokit/ssometrics/prom"
	"github.com/ssokit/ssokit/store"
)

// Config chooses where the demo listens.
type Config struct {
	// AppAddr and MockAddr are host:port on loopback (Start refuses any
	// other host); port 0 picks a free port. Empty means 127.0.0.1:4450
	// and 127.0.0.1:4451.
	AppAddr, MockAddr string
	// AdminKey is the bootstrap platform-admin key. Empty: a random one.
	AdminKey string
	// Headless keeps the mock personas signing in a login_hint's user at
	// once (tests); false shows their login pages, as a person expects.
	Headless bool
	// Logger receives the servers' logs. Nil: silent.
	Logger *slog.Logger
}

// The demo's people.
const (
	// PasswordEmail signs in to PasswordOrg with Password.
	PasswordEmail = "dave@acme.test"
	// PasswordOrg is the password user's organization.
	PasswordOrg = "acme"
	// Password is the password user's password.
	Password = "correct-horse-battery"
	// OutsiderEmail is an Okta user whose domain Acme's Clerk connection
	// covers but the app's allowed_domains do not.
	OutsiderEmail = "pat@acme-partners.test"
)

// Demo is a running demo.
type Demo struct {
	// AppURL is the control plane with its dashboard; MockURL the mock
	// platform.
	AppURL, MockURL string
	// AdminKey is the platform administrator's bootstrap key.
	AdminKey string
	// generatedKey: AdminKey was made here, so the summary may print it
	// (a key the caller supplied is theirs, and is not printed).
	generatedKey bool
	// Mock and Clerk are the mock platform and its Clerk instance.
	Mock  *mockidp.Server
	Clerk *mockidp.Clerk
	// API is the control plane (controlplane.New); its Store holds the
	// seeded organizations and people.
	API *controlplane.API
	// Dashboard serves the dashboard and the API at AppURL.
	Dashboard *dashboard.Dashboard

	srv     *http.Server
	stopRun context.CancelFunc
	ran     chan struct{}
}

// loopbackOnly refuses an address the demo must not listen on: anything
// but a loopback IP address or localhost. The demo has a known password,
// an insecure cookie and plain http, and its URLs are its listening
// address, so 0.0.0.0 or an empty host would both expose it and hand
// browsers URLs they cannot follow.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("demo: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
		return nil
	}
	return fmt.Errorf("demo: address %q: the demo listens on loopback only (127.0.0.1, [::1] or localhost): it has a known password and serves plain http", addr)
}

// Start starts the mock platform and the control plane with its dashboard,
// and seeds the control plane's store. The control plane is configured for
// a demo on loopback http: a state key generated now, an ephemeral session
// key (sessions end when the demo stops), and InsecureCookie, so the
// session cookie is not Secure and a browser keeps it over plain http on
// any loopback address.
func Start(ctx context.Context, cfg Config) (*Demo, error) {
	if cfg.AppAddr == "" {
		cfg.AppAddr = "127.0.0.1:4450"
	}
	if cfg.MockAddr == "" {
		cfg.MockAddr = "127.0.0.1:4451"
	}
	for _, addr := range []string{cfg.AppAddr, cfg.MockAddr} {
		if err := loopbackOnly(addr); err != nil {
			return nil, err
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	generated := cfg.AdminKey == ""
	if generated {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		cfg.AdminKey = "ssk_admin_" + hex.EncodeToString(b)
	}
	appL, err := net.Listen("tcp", cfg.AppAddr)
	if err != nil {
		return nil, fmt.Errorf("demo: app address: %w", err)
	}
	appURL := "http://" + appL.Addr().String()

	mcfg := mockidp.DefaultConfig()
	mcfg.Logger = cfg.Logger
	for i := range mcfg.Personas {
		p := &mcfg.Personas[i]
		p.Interactive = !cfg.Headless
		if p.Name == "okta" {
			p.Users = append(p.Users, mockidp.UserConfig{Email: OutsiderEmail, GivenName: "Pat", FamilyName: "Partner", Groups: []string{"engineering"}})
		}
	}
	for i := range mcfg.Clerk {
		c := &mcfg.Clerk[i]
		c.Webhooks = []string{appURL + "/webhooks/clerk"}
		c.AllowedRedirectURLs = append(c.AllowedRedirectURLs, appURL+"/auth/sso/callback")
		for j := range c.Connections {
			if c.Connections[j].Persona == "okta" {
				c.Connections[j].Domains = append(c.Connections[j].Domains, "acme-partners.test")
			}
		}
	}
	mock, err := mockidp.New(mcfg)
	if err != nil {
		appL.Close()
		return nil, err
	}
	if err := mock.Listen(cfg.MockAddr); err != nil {
		appL.Close()
		return nil, err
	}
	clerk := mock.Clerk("clerk")
	stateKey := make([]byte, 32)
	_, _ = rand.Read(stateKey)
	metrics, exp, err := newMetrics()
	if err != nil {
		mock.Close()
		appL.Close()
		return nil, err
	}
	cp, err := controlplane.New(controlplane.Config{
		AppURL:   appURL,
		StateKey: stateKey, // made now: sign-ins in flight end with the demo
		Clerk: clerkauth.Config{PublishableKey: clerk.PublishableKey(), SecretKey: clerk.SecretKey(),
			APIURL: clerk.BackendAPIURL(), InsecureHTTPLoopback: true},
		ClerkSignInURL: clerk.SignInURL(), WebhookSecret: clerk.WebhookSigningSecret(),
		BootstrapAdminKey: cfg.AdminKey,
		// The demo only: a session key made now, gone when it stops, and a
		// cookie without Secure, for plain http on loopback.
		EphemeralSessionKey: true, InsecureCookie: true,
		// The demo only: direct connections reach the mock IdP on loopback.
		InsecureAllowLoopbackIdP: true,
		ErrorPage:                dashboard.ErrorPage,
		HTTPClient:               mock.Client(), Logger: cfg.Logger,
		OnEvent: metrics.Hook(),
	})
	if err != nil {
		mock.Close()
		appL.Close()
		return nil, err
	}
	if err := metrics.ObserveControlPlane(cp); err != nil {
		cp.Close()
		mock.Close()
		appL.Close()
		return nil, err
	}
	dash, err := dashboard.New(dashboard.Config{API: cp, AppURL: appURL, Logger: cfg.Logger})
	if err != nil {
		mock.Close()
		appL.Close()
		return nil, err
	}
	d := &Demo{AppURL: appURL, MockURL: mock.URL, AdminKey: cfg.AdminKey, generatedKey: generated, Mock: mock, Clerk: clerk, API: cp, Dashboard: dash,
		srv: &http.Server{Handler: exp.Mount(dash), ReadHeaderTimeout: 10 * time.Second,
			MaxHeaderBytes: controlplane.MaxHeaderBytes, ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug)},
		ran: make(chan struct{})}
	if err := d.seed(ctx); err != nil {
		mock.Close()
		appL.Close()
		return nil, err
	}
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	d.stopRun = stopRun
	go func() {
		defer close(d.ran)
		cp.Run(runCtx)
	}()
	go func() { _ = d.srv.Serve(appL) }()
	return d, nil
}

// newMetrics makes ssokit's instruments on a Prometheus exporter: the
// demo's control plane answers GET /metrics.
func newMetrics() (*ssometrics.Metrics, *prom.Exporter, error) {
	exp, err := prom.New()
	if err != nil {
		return nil, nil, err
	}
	m, err := ssometrics.New(exp.Provider)
	return m, exp, err
}

// seed creates Acme (Okta over SAML, enterprise plan) and Contoso (Azure AD
// over OIDC, growth plan) with their SSO settings, and a password user.
func (d *Demo) seed(ctx context.Context) error {
	st := d.API.Store()
	az := d.Mock.Persona("azure")
	for _, o := range []struct {
		id, name, plan, clerkOrg, domain string
		rules                            []store.GroupRule
	}{
		{"acme", "Acme", "enterprise", "org_acme", "acme.test",
			[]store.GroupRule{{Group: "admins", Role: "admin"}, {Group: "engineering", Role: "editor"}}},
		{"contoso", "Contoso", "growth", "org_contoso", "contoso.test",
			// Azure AD sends group object IDs, not names.
			[]store.GroupRule{{Group: az.GroupIDs("admins")[0], Role: "admin"}, {Group: az.GroupIDs("engineering")[0], Role: "editor"}}},
	} {
		now := time.Now()
		if err := st.CreateOrg(ctx, store.Org{ID: o.id, Name: o.name, Plan: o.plan, ClerkOrgID: o.clerkOrg,
			AllowedDomains: []string{o.domain}, DefaultRole: "viewer", AutoCreateUsers: true, GroupRoles: o.rules,
			ClerkRoleMap: map[string]string{"org:admin": "admin", "org:member": "viewer"}, SSOConfigured: true,
			Created: now, Updated: now}); err != nil {
			return fmt.Errorf("demo: seed %s: %w", o.id, err)
		}
	}
	hash, err := admission.HashPassword(Password)
	if err != nil {
		return err
	}
	_, _, err = st.CreateUserIfAbsent(ctx, store.User{ID: "usr_dave", OrgID: PasswordOrg, Email: PasswordEmail, Role: "admin",
		PasswordHash: hash, Source: "password", Created: time.Now()})
	return err
}

// Close stops the control plane and the mock platform, waiting briefly for
// requests in flight, and writes API keys' last use once more.
func (d *Demo) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = d.srv.Shutdown(ctx)
	d.stopRun()
	select {
	case <-d.ran:
	case <-ctx.Done():
	}
	d.Mock.Close()
}

// Summary is the human summary ssokit demo prints: URLs, sample users and
// what each can do.
func (d *Demo) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ssokit demo\n\n  Dashboard      %s\n  Mock platform  %s (personas, Clerk, admin API)\n\n", d.AppURL, d.MockURL)
	b.WriteString("Sign in with SSO on the dashboard as:\n")
	rows := [][2]string{
		{"alice@acme.test", "Acme via Okta SAML, group admins -> admin (settings, API keys)"},
		{"bob@acme.test", "Acme via Okta SAML, group engineering -> editor"},
		{"carol@acme.test", "Acme via Okta SAML, no matching group -> viewer (default role)"},
		{"alice@contoso.test", "Contoso via Azure AD OIDC, group admins -> admin"},
		{"carol@contoso.test", "Contoso via Azure AD OIDC -> viewer (default role)"},
		{OutsiderEmail, "Okta user outside Acme's allowed domains -> refused (domain_not_allowed)"},
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-24s %s\n", r[0], r[1])
	}
	fmt.Fprintf(&b, "\nPassword sign-in: org %q, %s / %s (admin; refused once Acme turns on require_sso)\n", PasswordOrg, PasswordEmail, Password)
	if d.generatedKey {
		fmt.Fprintf(&b, "Platform admin API key: %s\n  curl -H 'Authorization: Bearer %s' %s/v1/organizations/acme/sso/status\n", d.AdminKey, d.AdminKey, d.AppURL)
	} else {
		fmt.Fprintf(&b, "Platform admin API key: the one you supplied (not printed)\n  curl -H \"Authorization: Bearer $SSOKIT_BOOTSTRAP_ADMIN_KEY\" %s/v1/organizations/acme/sso/status\n", d.AppURL)
	}
	names := make([]string, 0, 5)
	for _, p := range d.Mock.Personas() {
		names = append(names, p.Name())
	}
	slices.Sort(names)
	fmt.Fprintf(&b, "Mock personas: %s; Clerk sign-in %s\n", strings.Join(names, ", "), d.Clerk.SignInURL())
	b.WriteString("Keys: the state key and the session signing key were generated at start and die with the demo\n" +
		"  (sign-ins in flight and app sessions end when it stops; a deployment sets SSOKIT_STATE_KEY and a session key)\n")
	return b.String()
}
