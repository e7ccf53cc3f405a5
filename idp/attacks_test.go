package idp_test

import (
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
)

// TestSAMLAttacks logs in through the Okta (both signed) and Azure
// (assertion signed) personas with each attack the mock's generator makes
// armed, and asserts the specific refusal, or for XSW7 and comment
// injection the acceptance with the original, whole values.
func TestSAMLAttacks(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	tests := []struct {
		attack   mockidp.Fault
		sentinel error
		reason   string // "" means accepted (checked below)
	}{
		{mockidp.SAMLExpired, idp.ErrInvalidResponse, idp.ReasonExpired},
		{mockidp.SAMLNotYetValid, idp.ErrInvalidResponse, idp.ReasonNotYetValid},
		{mockidp.SAMLWrongAudience, idp.ErrInvalidResponse, idp.ReasonAudience},
		{mockidp.SAMLWrongDestination, idp.ErrInvalidResponse, idp.ReasonDestination},
		{mockidp.SAMLWrongRecipient, idp.ErrInvalidResponse, idp.ReasonRecipient},
		{mockidp.SAMLWrongInResponseTo, idp.ErrInvalidResponse, idp.ReasonInResponseTo},
		{mockidp.SAMLUnsigned, idp.ErrInvalidResponse, idp.ReasonSignature},
		{mockidp.SAMLTampered, idp.ErrInvalidResponse, idp.ReasonSignature},
		{mockidp.SAMLUntrustedCert, idp.ErrInvalidResponse, idp.ReasonUntrustedCert},
		{mockidp.XSW1, idp.ErrInvalidResponse, idp.ReasonSignature},
		{mockidp.XSW2, idp.ErrInvalidResponse, idp.ReasonSignature},
		{mockidp.XSW3, idp.ErrInvalidResponse, idp.ReasonMultipleAssertions},
		{mockidp.XSW4, idp.ErrInvalidResponse, idp.ReasonSignature},
		{mockidp.XSW5, idp.ErrInvalidResponse, idp.ReasonMultipleAssertions},
		{mockidp.XSW6, idp.ErrInvalidResponse, idp.ReasonSignature},
		{mockidp.XSW7, nil, ""},
		{mockidp.XSW8, idp.ErrInvalidResponse, idp.ReasonSignature},
		{mockidp.SAMLTwoAssertions, idp.ErrInvalidResponse, idp.ReasonMultipleAssertions},
		{mockidp.SAMLCommentInjection, nil, ""},
		{mockidp.SAMLDoctype, idp.ErrInvalidResponse, idp.ReasonDoctype},
		{mockidp.SAMLReplay, idp.ErrInvalidResponse, idp.ReasonInResponseTo}, // a replay to a new login names the old request
		{mockidp.SAMLOversized, idp.ErrInvalidResponse, idp.ReasonTooLarge},
	}
	for _, persona := range []string{"okta", "azure"} {
		p := srv.Persona(persona)
		a := newApp(t)
		// The email attribute is renamed away, so the email comes from the
		// NameID: the comment-injection case shows which NameID is read.
		c := samlConn(t, p, a, vendors[persona], nil)
		c.Attributes = map[string]string{"email": "no-such-attribute"}
		a.conn = connect(t, srv, c, idp.Options{})
		email := p.Users()[0].Email
		a.hint = email
		for _, tc := range tests {
			t.Run(persona+"/"+string(tc.attack), func(t *testing.T) {
				if tc.attack == mockidp.SAMLReplay {
					if r := browse(t, browser(srv), a.srv.URL+"/login"); r.Identity == nil {
						t.Fatalf("honest login refused: %s", r.Error)
					}
				}
				if err := p.NextResponse(tc.attack); err != nil {
					t.Fatal(err)
				}
				r := browse(t, browser(srv), a.srv.URL+"/login")
				switch tc.attack {
				case mockidp.XSW7:
					if r.Identity == nil || r.Identity.NameID != email {
						t.Fatalf("XSW7: %+v %s; want the original NameID %s", r.Identity, r.Error, email)
					}
				case mockidp.SAMLCommentInjection:
					if r.Identity == nil || r.Identity.NameID != email+".evil.test" || r.Identity.Email != email+".evil.test" {
						t.Fatalf("comment injection: %+v %s; want the whole signed NameID", r.Identity, r.Error)
					}
				default:
					wantRefusal(t, r, tc.sentinel, tc.reason)
				}
			})
		}
	}
}

// TestSAMLUnsolicitedAndReplay: an unsolicited response is refused unless
// the connection allows IdP-initiated login; then the same response used
// twice is refused the second time.
func TestSAMLUnsolicitedAndReplay(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	p := srv.Persona("onelogin")
	for _, allow := range []bool{false, true} {
		a := newApp(t)
		c := samlConn(t, p, a, sso.OneLogin, func(s *idp.SAMLSettings) { s.AllowIDPInitiated = allow })
		a.conn = connect(t, srv, c, idp.Options{})
		p.QueueUser("bob@initech.test")
		client := browser(srv)
		resp, err := client.Get(p.SAMLIDPInitiatedURL(c.SAML.EntityID, "//evil.example/steal"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		form := url.Values{}
		for _, f := range samlFormField.FindAllSubmatch(b, -1) {
			form.Set(string(f[1]), html.UnescapeString(string(f[2])))
		}
		post := func() result {
			resp, err := client.PostForm(a.srv.URL+"/saml/acs", form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var r result
			json2(t, resp, &r)
			return r
		}
		if !allow {
			wantRefusal(t, post(), idp.ErrNoLogin, idp.ReasonUnsolicited)
			continue
		}
		r := post()
		if r.Identity == nil || r.Identity.Email != "bob@initech.test" {
			t.Fatalf("IdP-initiated: %+v %s", r.Identity, r.Error)
		}
		if r.ReturnTo != "/" {
			t.Fatalf("RelayState //evil.example became return_to %q", r.ReturnTo)
		}
		wantRefusal(t, post(), idp.ErrReplayed, idp.ReasonReplay)
	}
}

// TestOIDCAttacks arms each of the mock's ID-token faults at the Okta
// persona and asserts the relying party's specific refusal.
func TestOIDCAttacks(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	p := srv.Persona("okta")
	a := newApp(t)
	a.conn = connect(t, srv, oidcConn(p, a, sso.Okta), idp.Options{})
	a.hint = "alice@acme.test"
	tests := []struct {
		fault    mockidp.Fault
		sentinel error
		reason   string
	}{
		{mockidp.FaultWrongAudience, idp.ErrInvalidResponse, idp.ReasonAudience},
		{mockidp.FaultWrongIssuer, idp.ErrInvalidResponse, idp.ReasonIssuer},
		{mockidp.FaultIDTokenExpired, idp.ErrInvalidResponse, idp.ReasonExpired},
		{mockidp.FaultIDTokenNotYet, idp.ErrInvalidResponse, idp.ReasonNotYetValid},
		{mockidp.FaultAlgNone, idp.ErrInvalidResponse, idp.ReasonAlgorithm},
		{mockidp.FaultBadSignature, idp.ErrInvalidResponse, idp.ReasonSignature},
		{mockidp.FaultUnpublishedKey, idp.ErrInvalidResponse, idp.ReasonUnknownKey},
		{mockidp.FaultMissingNonce, idp.ErrInvalidResponse, idp.ReasonNonce},
		{mockidp.FaultWrongNonce, idp.ErrInvalidResponse, idp.ReasonNonce},
		{mockidp.FaultWrongAtHash, idp.ErrInvalidResponse, idp.ReasonAtHash},
		{mockidp.FaultAccessDenied, idp.ErrIdPRefused, idp.ReasonIdPError},
		{mockidp.FaultTokenError500, idp.ErrUpstream, idp.ReasonUpstream},
	}
	for _, tc := range tests {
		t.Run(string(tc.fault), func(t *testing.T) {
			if err := p.InjectFault(tc.fault, 1); err != nil {
				t.Fatal(err)
			}
			r := browse(t, browser(srv), a.srv.URL+"/login")
			wantRefusal(t, r, tc.sentinel, tc.reason)
			// Every fault but the IdP's error redirect and its outage
			// comes after the code was exchanged: the IdP's own answer.
			if want := tc.fault != mockidp.FaultAccessDenied && tc.fault != mockidp.FaultTokenError500; r.Vouched != want {
				t.Fatalf("vouched %v, want %v", r.Vouched, want)
			}
			if tc.fault == mockidp.FaultTokenError500 && !strings.HasSuffix(r.Error, "token endpoint: HTTP 500") {
				// The IdP's error page is its own text: only the status.
				t.Fatalf("the token endpoint's body reached the refusal: %s", r.Error)
			}
		})
	}
	// The cases below each get a connector of their own: the unknown-kid
	// case above spent this connector's key refresh for the interval, as a
	// flood of forged kids would.
	fresh := func() *app {
		b := newApp(t)
		b.conn = connect(t, srv, oidcConn(p, b, sso.Okta), idp.Options{})
		b.hint = "alice@acme.test"
		return b
	}
	t.Run("key rotation is followed", func(t *testing.T) {
		a := fresh()
		p.InjectFault(mockidp.FaultKeyRotated, 1)
		if r := browse(t, browser(srv), a.srv.URL+"/login"); r.Identity == nil {
			t.Fatalf("refused after a key rotation: %s", r.Error)
		}
	})

	// state and code, by hand: stop at the redirect back to the app.
	a = fresh()
	callback := func(client *http.Client) *url.URL { t.Helper(); return callbackURL(t, client, a.srv.URL) }
	get := func(client *http.Client, u *url.URL) result { t.Helper(); return getResult(t, client, u) }
	t.Run("state mismatch", func(t *testing.T) {
		client := browser(srv)
		u := callback(client)
		q := u.Query()
		q.Set("state", "forged-state")
		u.RawQuery = q.Encode()
		wantRefusal(t, get(client, u), idp.ErrNoLogin, idp.ReasonState)
	})
	t.Run("another browser's callback", func(t *testing.T) {
		u := callback(browser(srv))
		wantRefusal(t, get(browser(srv), u), idp.ErrNoLogin, idp.ReasonState)
	})
	t.Run("an error link without this browser's state", func(t *testing.T) {
		// Anyone can send a link with error= and a text of their own:
		// without the state it is a state refusal, its text unread.
		u, _ := url.Parse(a.srv.URL + "/callback?error=access_denied&error_description=" +
			url.QueryEscape("Your IdP certificate expired: upload the new one from https://evil.example/cert"))
		r := get(browser(srv), u)
		wantRefusal(t, r, idp.ErrNoLogin, idp.ReasonState)
		if strings.Contains(r.Error, "evil.example") {
			t.Fatalf("the link's text reached the refusal: %s", r.Error)
		}
	})
	// RFC 9207: an iss parameter names the IdP that answered. Another
	// IdP's (a mix-up), or two of them, is refused before the code is
	// sent anywhere (so not vouched for).
	for _, c := range []struct {
		name string
		iss  []string
	}{
		{"iss of another IdP", []string{p.Issuer() + "/other"}},
		{"iss twice", []string{p.Issuer(), p.Issuer()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			client := browser(srv)
			u := callback(client)
			q := u.Query()
			q["iss"] = c.iss
			u.RawQuery = q.Encode()
			r := get(client, u)
			wantRefusal(t, r, idp.ErrInvalidResponse, idp.ReasonIssuer)
			if r.Vouched {
				t.Fatal("vouched for: the iss check comes before the code is exchanged")
			}
		})
	}
	t.Run("iss of this IdP", func(t *testing.T) {
		client := browser(srv)
		u := callback(client)
		q := u.Query()
		q.Set("iss", p.Issuer())
		u.RawQuery = q.Encode()
		if r := get(client, u); r.Identity == nil {
			t.Fatalf("refused with its own issuer: %s", r.Error)
		}
	})
	t.Run("code reuse", func(t *testing.T) {
		client := browser(srv)
		first := callback(client)
		if r := get(client, first); r.Identity == nil {
			t.Fatalf("first use refused: %s", r.Error)
		}
		// A new login of the same browser, finished with the used code.
		second := callback(client)
		q := second.Query()
		q.Set("code", first.Query().Get("code"))
		second.RawQuery = q.Encode()
		wantRefusal(t, get(client, second), idp.ErrInvalidResponse, idp.ReasonCode)
	})
}

func TestOIDCGoogleHostedDomain(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	p := srv.Persona("google")
	for _, tc := range []struct {
		allowed []string
		user    string
		reason  string
	}{
		{[]string{"example-workspace.test"}, "alice@example-workspace.test", ""},
		{[]string{"EXAMPLE-WORKSPACE.test"}, "bob@example-workspace.test", ""},
		{[]string{"other.test"}, "alice@example-workspace.test", idp.ReasonHostedDomain},
		{nil, "dana@gmail.com", idp.ReasonNoHostedDomain},
	} {
		t.Run(fmt.Sprint(tc.allowed, tc.user), func(t *testing.T) {
			a := newApp(t)
			c := oidcConn(p, a, sso.GoogleWorkspace)
			c.AllowedDomains = tc.allowed
			a.conn = connect(t, srv, c, idp.Options{})
			a.hint = tc.user
			r := browse(t, browser(srv), a.srv.URL+"/login")
			if tc.reason == "" {
				if r.Identity == nil {
					t.Fatalf("refused: %s", r.Error)
				}
				return
			}
			wantRefusal(t, r, idp.ErrNotAllowed, tc.reason)
		})
	}
}

func TestOIDCAzure(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	p := srv.Persona("azure")
	common := strings.Replace(p.Issuer(), p.Tenant(), "common", 1)
	// A multi-tenant connection needs xms_edov (TestAzureEmailDomainOwner).
	p.PutUser(mockidp.UserConfig{Email: "mt@contoso.test", Claims: map[string]any{"xms_edov": true}})
	t.Run("multi-tenant", func(t *testing.T) {
		for _, tc := range []struct {
			tenants []string
			reason  string
		}{{[]string{p.Tenant()}, ""}, {[]string{"00000000-0000-0000-0000-000000000000"}, idp.ReasonTenant}} {
			a := newApp(t)
			c := oidcConn(p, a, sso.AzureAD)
			c.OIDC.Issuer, c.OIDC.AllowedTenants = common, tc.tenants
			a.conn = connect(t, srv, c, idp.Options{})
			a.hint = "mt@contoso.test"
			r := browse(t, browser(srv), a.srv.URL+"/login")
			if tc.reason == "" && (r.Identity == nil || r.Identity.TenantID != p.Tenant()) {
				t.Fatalf("allowed tenant refused: %s", r.Error)
			}
			if tc.reason != "" {
				wantRefusal(t, r, idp.ErrNotAllowed, tc.reason)
			}
		}
		// An allowed tenant's tid with an iss that is not that tenant's
		// issuer (the common endpoint skips the library's issuer check).
		{
			a := newApp(t)
			c := oidcConn(p, a, sso.AzureAD)
			c.OIDC.Issuer, c.OIDC.AllowedTenants = common, []string{p.Tenant()}
			a.conn = connect(t, srv, c, idp.Options{})
			a.hint = "mt@contoso.test"
			if err := p.InjectFault(mockidp.FaultWrongIssuer, 1); err != nil {
				t.Fatal(err)
			}
			wantRefusal(t, browse(t, browser(srv), a.srv.URL+"/login"), idp.ErrInvalidResponse, idp.ReasonIssuer)
		}
		a := newApp(t)
		c := oidcConn(p, a, sso.AzureAD)
		c.OIDC.Issuer = common
		if _, err := idp.New(t.Context(), c, idp.Options{HTTPClient: srv.Client(), InsecureAllowLoopback: true, StateKey: testStateKey}); err == nil || !strings.Contains(err.Error(), "allowed_tenants") {
			t.Fatalf("common without allowed tenants: %v", err)
		}
	})
	t.Run("group overage", func(t *testing.T) {
		groups := make([]string, 250)
		for i := range groups {
			groups[i] = fmt.Sprintf("g%03d", i)
		}
		p.PutUser(mockidp.UserConfig{Email: "many@contoso.test", Groups: groups})
		for _, withResolver := range []bool{false, true} {
			a := newApp(t)
			opts := idp.Options{}
			if withResolver {
				opts.GroupResolver = idp.GraphGroupResolver{BaseURL: p.GraphURL(), HTTPClient: srv.Client()}
			}
			a.conn = connect(t, srv, oidcConn(p, a, sso.AzureAD), opts)
			a.hint = "many@contoso.test"
			r := browse(t, browser(srv), a.srv.URL+"/login")
			if !withResolver {
				wantRefusal(t, r, idp.ErrGroupOverage, idp.ReasonGroupOverage)
				continue
			}
			if r.Identity == nil || len(r.Identity.Groups) != 250 || r.Identity.Groups[0] != p.GroupIDs("g000")[0] {
				t.Fatalf("resolved groups: %v %s", r.Identity, r.Error)
			}
		}
		// Graph cannot be reached: the refusal, which the organization's
		// SSO log shows, says so without the operator's address or what
		// the network answered there.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		a := newApp(t)
		a.conn = connect(t, srv, oidcConn(p, a, sso.AzureAD), idp.Options{GroupResolver: idp.GraphGroupResolver{BaseURL: "http://" + addr, HTTPClient: srv.Client()}})
		a.hint = "many@contoso.test"
		r := browse(t, browser(srv), a.srv.URL+"/login")
		wantRefusal(t, r, idp.ErrUpstream, idp.ReasonGroupOverage)
		for _, leak := range []string{addr, "dial", "refused", "/v1.0/users"} {
			if strings.Contains(r.Error, leak) {
				t.Errorf("the refusal %q shows %q", r.Error, leak)
			}
		}
	})
}

// samlFormField reads the fields of an IdP's auto-submit form, for tests
// that post it more than once.
var samlFormField = regexp.MustCompile(`name="(SAMLResponse|RelayState)" value="([^"]*)"`)

// TestOIDCIssParameterRequired: an IdP whose discovery says it sends iss
// with its authorization responses (RFC 9207) signs in with it, its error
// redirect with it is the IdP's refusal, and a response without it (a
// mix-up: another IdP's answer, or the parameter stripped) is refused for
// its issuer before the code is exchanged.
func TestOIDCIssParameterRequired(t *testing.T) {
	t.Parallel()
	cfg := mockidp.DefaultConfig()
	for i := range cfg.Personas {
		cfg.Personas[i].IssParameter = true
	}
	srv := mockidp.Start(t, cfg)
	p := srv.Persona("okta")
	a := newApp(t)
	a.conn = connect(t, srv, oidcConn(p, a, sso.Okta), idp.Options{})
	a.hint = "alice@acme.test"
	if r := browse(t, browser(srv), a.srv.URL+"/login"); r.Identity == nil {
		t.Fatalf("refused with the iss parameter: %s", r.Error)
	}
	if err := p.InjectFault(mockidp.FaultAccessDenied, 1); err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, browse(t, browser(srv), a.srv.URL+"/login"), idp.ErrIdPRefused, idp.ReasonIdPError)

	client := browser(srv)
	u := callbackURL(t, client, a.srv.URL)
	q := u.Query()
	if q.Get("iss") != p.Issuer() {
		t.Fatalf("the mock's redirect carries iss %q, want %q", q.Get("iss"), p.Issuer())
	}
	q.Del("iss")
	u.RawQuery = q.Encode()
	r := getResult(t, client, u)
	wantRefusal(t, r, idp.ErrInvalidResponse, idp.ReasonIssuer)
	if r.Vouched {
		t.Fatal("vouched for: the iss check comes before the code is exchanged")
	}
}

// TestOIDCIssParameterMultiTenant: on an Azure AD common connection the
// iss parameter must be the issuer of an allowed tenant; the common
// issuer itself, or another tenant's, is refused before the code is sent.
func TestOIDCIssParameterMultiTenant(t *testing.T) {
	t.Parallel()
	cfg := mockidp.DefaultConfig()
	for i := range cfg.Personas {
		cfg.Personas[i].IssParameter = true
	}
	srv := mockidp.Start(t, cfg)
	p := srv.Persona("azure")
	p.PutUser(mockidp.UserConfig{Email: "mt@contoso.test", Claims: map[string]any{"xms_edov": true}})
	common := strings.Replace(p.Issuer(), p.Tenant(), "common", 1)
	other := strings.Replace(p.Issuer(), p.Tenant(), "00000000-0000-0000-0000-000000000000", 1)
	a := newApp(t)
	c := oidcConn(p, a, sso.AzureAD)
	c.OIDC.Issuer, c.OIDC.AllowedTenants = common, []string{p.Tenant()}
	a.conn = connect(t, srv, c, idp.Options{})
	a.hint = "mt@contoso.test"
	for _, iss := range []string{"", common, other} {
		client := browser(srv)
		u := callbackURL(t, client, a.srv.URL)
		q := u.Query()
		if q.Get("iss") != p.Issuer() {
			t.Fatalf("the mock's redirect carries iss %q, want the tenant's %q", q.Get("iss"), p.Issuer())
		}
		if iss != "" {
			q.Set("iss", iss)
			u.RawQuery = q.Encode()
		}
		r := getResult(t, client, u)
		if iss == "" {
			if r.Identity == nil || r.Identity.TenantID != p.Tenant() {
				t.Fatalf("the allowed tenant's iss refused: %s", r.Error)
			}
			continue
		}
		wantRefusal(t, r, idp.ErrInvalidResponse, idp.ReasonIssuer)
		if r.Vouched {
			t.Fatalf("iss %s: vouched for, the code was exchanged", iss)
		}
	}
}

// callbackURL starts a login at the app with client and follows it by
// hand to the IdP's redirect back, which it returns unfollowed: the state
// and code for a test to edit.
func callbackURL(t *testing.T, client *http.Client, appURL string) *url.URL {
	t.Helper()
	noFollow := *client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(appURL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp, err = noFollow.Get(resp.Header.Get("Location")); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// getResult takes client to u, the app's callback, and returns the app's
// account of the login.
func getResult(t *testing.T, client *http.Client, u *url.URL) result {
	t.Helper()
	resp, err := client.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r result
	json2(t, resp, &r)
	return r
}

// TestAzureEmailDomainOwner: an Entra ID address is held to xms_edov,
// Entra's word on whether the tenant owns the address's domain. Any value
// but true is refused on every connection; a multi-tenant connection
// refuses an address without the claim, since the administrator of any
// allowed tenant can give their users another tenant's addresses; a
// single-tenant connection takes its own directory's addresses without it.
func TestAzureEmailDomainOwner(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	p := srv.Persona("azure")
	common := strings.Replace(p.Issuer(), p.Tenant(), "common", 1)
	for _, tc := range []struct {
		name        string
		multiTenant bool
		edov        any // nil: no claim
		reason      string
	}{
		{"single tenant, no claim", false, nil, ""},
		{"single tenant, true", false, true, ""},
		{"single tenant, false", false, false, idp.ReasonEmailUnverified},
		{"single tenant, \"false\"", false, "false", idp.ReasonEmailUnverified},
		{"single tenant, 1", false, 1, idp.ReasonEmailUnverified},
		{"multi-tenant, no claim", true, nil, idp.ReasonEmailVerifiedNone},
		{"multi-tenant, true", true, true, ""},
		{"multi-tenant, \"true\"", true, "true", ""},
		{"multi-tenant, false", true, false, idp.ReasonEmailUnverified},
		{"multi-tenant, an object", true, map[string]any{}, idp.ReasonEmailUnverified},
	} {
		t.Run(tc.name, func(t *testing.T) {
			email := "edov-" + strings.NewReplacer(" ", "-", ",", "", "\"", "q").Replace(tc.name) + "@contoso.test"
			u := mockidp.UserConfig{Email: email}
			if tc.edov != nil {
				u.Claims = map[string]any{"xms_edov": tc.edov}
			}
			p.PutUser(u)
			a := newApp(t)
			c := oidcConn(p, a, sso.AzureAD)
			if tc.multiTenant {
				c.OIDC.Issuer, c.OIDC.AllowedTenants = common, []string{p.Tenant()}
			}
			a.conn = connect(t, srv, c, idp.Options{})
			a.hint = email
			r := browse(t, browser(srv), a.srv.URL+"/login")
			if tc.reason == "" {
				if r.Identity == nil || r.Identity.Email != email || !r.Identity.EmailVerified {
					t.Fatalf("refused or wrong identity: %+v %s", r.Identity, r.Error)
				}
				return
			}
			wantRefusal(t, r, idp.ErrNotAllowed, tc.reason)
		})
	}
}
