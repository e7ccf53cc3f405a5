package browser_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/client"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
)

// TestDirectConnectionsInABrowser signs in through an organization's
// direct SAML connection and through a direct OIDC connection in a real
// Chromium, on sites as in production: the app at
// https://app.example.test, the SAML IdP at https://idp.okta.test
// (Chromium maps both to 127.0.0.1 with --host-resolver-rules and trusts
// the mocks' CAs by their SPKI hashes) and the OIDC IdP at
// https://localhost, so the IdP's SAML response is a genuinely cross-site
// POST and the browser applies SameSite and Secure as it does
// in production. The IdP registers the app's service provider from the
// SP metadata the control plane publishes.
func TestDirectConnectionsInABrowser(t *testing.T) {
	path := chromium(t)
	mock := mockidp.StartWith(t, mockidp.DefaultConfig(), mockidp.ListenOptions{TLS: true, Host: "idp.okta.test"})
	cert, err := mock.IssueCertificate("app.example.test")
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = http.NotFoundHandler()
	app := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	app.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	app.StartTLS()
	t.Cleanup(app.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(app.URL, "https://"))
	appURL := "https://app.example.test:" + port
	// The control plane's guarded client for identity providers resolves
	// names itself (no loopback mapping), so the OIDC IdP, which the app
	// calls server to server, is a second mock at https://localhost:<port>:
	// still another site than the app. The SAML IdP is only reached by the
	// browser (its metadata is given as XML), at https://idp.okta.test.
	oidcMock := mockidp.StartWith(t, mockidp.DefaultConfig(), mockidp.ListenOptions{TLS: true, Host: "localhost"})
	tr, err := mockidp.LoopbackTransport(append(append([]byte(nil), mock.CACertPEM()...), oidcMock.CACertPEM()...), "*.example.test", "*.okta.test")
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	const adminKey = "bootstrap-admin-key-for-the-browser-test"
	stateKey := make([]byte, 32)
	rand.Read(stateKey)
	var logger *slog.Logger
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cp, err := controlplane.New(controlplane.Config{AppURL: appURL, StateKey: stateKey, EphemeralSessionKey: true,
		BootstrapAdminKey: adminKey, HTTPClient: hc, Logger: logger, InsecureAllowLoopbackIdP: true})
	if err != nil {
		t.Fatal(err)
	}
	h = cp
	admin, err := client.New(client.Config{BaseURL: appURL, Token: adminKey, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Acme: SAML to the mock Okta, registered there from the app's SP metadata.
	okta := mock.Persona("okta")
	if _, err := admin.Organizations.Create(ctx, "acme", "Acme", "enterprise"); err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(okta.SAMLMetadataURL())
	if err != nil {
		t.Fatal(err)
	}
	idpMD, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	samlConn := &idp.Connection{ID: "acme", Protocol: sso.SAML, Vendor: sso.Okta, SAML: &idp.SAMLSettings{IDPMetadataXML: string(idpMD),
		EntityID: appURL + "/auth/sso/saml/acme", ACSURL: appURL + "/auth/sso/acs/acme"}}
	configure(t, admin, "acme", samlConn, "acme.test", []api.GroupRule{{Group: "admins", Role: "admin"}})
	sp, err := admin.Organizations.SAMLServiceProvider(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	// The mock fetches metadata_url with a client that cannot resolve
	// app.example.test, so the test fetches the published metadata and
	// hands it over as it is.
	resp, err = hc.Get(sp.MetadataURL)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/samlmetadata+xml" {
		t.Fatalf("SP metadata: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := okta.RegisterServiceProvider(mockidp.ServiceProviderConfig{MetadataXML: string(md)}); err != nil {
		t.Fatal(err)
	}

	// Contoso: OIDC to the mock Azure AD, with a client for the app's callback.
	azure := oidcMock.Persona("azure")
	if _, err := admin.Organizations.Create(ctx, "contoso", "Contoso", "enterprise"); err != nil {
		t.Fatal(err)
	}
	redirect := appURL + "/auth/sso/oidc/contoso"
	if err := azure.PutClient(mockidp.ClientConfig{ClientID: "app-contoso", ClientSecret: "app-contoso-secret", RedirectURIs: []string{redirect}}); err != nil {
		t.Fatal(err)
	}
	oidcConn := &idp.Connection{ID: "contoso", Protocol: sso.OIDC, Vendor: sso.AzureAD, OIDC: &idp.OIDCSettings{Issuer: azure.Issuer(),
		ClientID: "app-contoso", ClientSecret: "app-contoso-secret", RedirectURL: redirect, TokenEndpointAuthMethod: "client_secret_post"}}
	configure(t, admin, "contoso", oidcConn, "contoso.test", nil)

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1, MAP *.okta.test 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors-spki-list", mock.SPKIHash()+","+oidcMock.SPKIHash()),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1100, 900))
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	defer cancelBrowser()
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		if testenv.InCI() {
			t.Fatalf("Chromium at %s did not start: %v", path, err)
		}
		t.Skipf("skipping: Chromium at %s did not start (%v)", path, err)
	}

	for _, tc := range []struct {
		name, org, email, idpName, role string
		idpURL, idpPrefix               string
		stateSameSite                   []network.CookieSameSite
	}{
		{"saml", "acme", "alice@acme.test", "okta", "admin", mock.URL, "https://idp.okta.test:", []network.CookieSameSite{network.CookieSameSiteNone}},
		{"oidc", "contoso", "carol@contoso.test", "azure_ad", "viewer", oidcMock.URL, "https://localhost:",
			[]network.CookieSameSite{network.CookieSameSiteNone, network.CookieSameSiteLax}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(bctx, 45*time.Second)
			defer cancel()
			user := chromedp.CSS(`button.user[value="` + tc.email + `"]`)
			start := appURL + "/auth/sso/start?org=" + tc.org + "&return_to=/v1/auth/whoami"
			if err := chromedp.Do(ctx, chromedp.Navigate(start), chromedp.WaitVisible(user)); err != nil {
				loc, _ := chromedp.Run(ctx, chromedp.Location())
				body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
				t.Fatalf("the IdP login page did not show %s (at %s): %v\n%.500s", tc.email, loc, err, body)
			}
			loc, err := chromedp.Run(ctx, chromedp.Location())
			if err != nil || !strings.HasPrefix(loc, tc.idpURL+"/") || !strings.HasPrefix(tc.idpURL, tc.idpPrefix) {
				t.Fatalf("login page at %s (%v), want the IdP at %s", loc, err, tc.idpPrefix)
			}
			// At the IdP, the browser holds the app's sign-in state cookie:
			// Secure and HttpOnly; SameSite=None for SAML, whose response
			// comes back as a cross-site POST that would not carry a Lax
			// cookie; None or Lax for OIDC's top-level GET back (package
			// idp sets None today; Lax would do).
			res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{appURL + "/auth/sso/acs/" + tc.org, appURL + "/auth/sso/oidc/" + tc.org}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Cookies) == 0 {
				t.Error("no sign-in state cookie for the app at the IdP")
			}
			for _, c := range res.Cookies {
				t.Logf("state cookie %s: path %s secure %v httpOnly %v sameSite %q", c.Name, c.Path, c.Secure, c.HTTPOnly, c.SameSite)
				if !c.Secure || !c.HTTPOnly || !slices.Contains(tc.stateSameSite, c.SameSite) {
					t.Errorf("state cookie %s: secure %v httpOnly %v sameSite %q, want Secure HttpOnly %v", c.Name, c.Secure, c.HTTPOnly, c.SameSite, tc.stateSameSite)
				}
			}
			if err := chromedp.Do(ctx, chromedp.Click(user)); err != nil {
				t.Fatal(err)
			}
			// The IdP's answer goes through a redirect or an auto-posted
			// form: wait for the whoami page to have loaded.
			var body string
			for deadline := time.Now().Add(20 * time.Second); ; {
				loc, err = chromedp.Run(ctx, chromedp.Location())
				if err == nil && strings.HasPrefix(loc, appURL+"/v1/auth/whoami") {
					if body, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body"))); err == nil && strings.HasPrefix(strings.TrimSpace(body), "{") {
						break
					}
				}
				if time.Now().After(deadline) {
					body, _ = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
					t.Fatalf("not back at the app's whoami (at %s): %v\n%.500s", loc, err, body)
				}
				time.Sleep(100 * time.Millisecond)
			}
			var me api.Whoami
			if err := json.Unmarshal([]byte(body), &me); err != nil || me.Email != tc.email || me.OrgID != tc.org || me.AuthMethod != "sso" ||
				me.IdPName != tc.idpName || me.Role != tc.role || !strings.HasPrefix(loc, appURL+"/") {
				t.Fatalf("whoami at %s: %+v %v\n%.500s", loc, me, err, body)
			}

			// Every cookie the browser holds for the app is Secure and
			// HttpOnly, and none is SameSite=None; the session is Lax.
			res, err = chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{appURL + "/", appURL + "/auth/sso/acs/" + tc.org}})
			if err != nil {
				t.Fatal(err)
			}
			cookies := res.Cookies
			session := false
			for _, c := range cookies {
				t.Logf("cookie %s: domain %s path %s secure %v httpOnly %v sameSite %q", c.Name, c.Domain, c.Path, c.Secure, c.HTTPOnly, c.SameSite)
				if !c.Secure || !c.HTTPOnly || c.SameSite == network.CookieSameSiteNone || c.SameSite == "" {
					t.Errorf("cookie %s: secure %v httpOnly %v sameSite %q", c.Name, c.Secure, c.HTTPOnly, c.SameSite)
				}
				if c.Path == "/" && c.SameSite == network.CookieSameSiteLax {
					session = true
				}
			}
			if !session {
				t.Errorf("no Lax session cookie at / among %d cookies", len(cookies))
			}
			// Sign out for the next sign-in: drop the app's cookies.
			if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// configure saves an organization's direct connection: domain's people
// are created at their first sign-in, viewers unless a group rule says.
func configure(t *testing.T, admin *client.Client, org string, conn *idp.Connection, domain string, groups []api.GroupRule) {
	t.Helper()
	b, err := json.Marshal(conn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Organizations.ConfigureSSO(context.Background(), org, api.SSOSettings{Connection: b, AllowedDomains: []string{domain},
		DefaultRole: "viewer", AutoCreateUsers: true, GroupRoles: groups}); err != nil {
		t.Fatalf("configuring %s: %v", org, err)
	}
}
