package mockidp_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
)

// headlessConn connects to the mock Okta over proto, as an app at
// https://app.example would (the connector runs in process).
func headlessConn(t *testing.T, srv *mockidp.Server, proto sso.Protocol) idp.Connector {
	t.Helper()
	p := srv.Persona("okta")
	c := idp.Connection{ID: "okta", Protocol: proto, Vendor: sso.Okta}
	switch proto {
	case sso.SAML:
		c.SAML = &idp.SAMLSettings{IDPMetadataURL: p.SAMLMetadataURL(), EntityID: "https://app.example/saml/metadata",
			ACSURL: "https://app.example/saml/acs"}
		if err := p.RegisterServiceProvider(mockidp.ServiceProviderConfig{EntityID: c.SAML.EntityID, ACSURL: c.SAML.ACSURL}); err != nil {
			t.Fatal(err)
		}
	case sso.OIDC:
		cl := p.Clients()[0]
		c.OIDC = &idp.OIDCSettings{Issuer: p.Issuer(), ClientID: cl.ClientID, ClientSecret: cl.ClientSecret,
			RedirectURL: "http://127.0.0.1:8080/callback", TokenEndpointAuthMethod: cl.TokenEndpointAuthMethod}
	}
	conn, err := idp.New(context.Background(), c, idp.Options{HTTPClient: srv.Client(), InsecureAllowLoopback: true, StateKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestHeadlessLogin: a login driven headlessly through a persona reports
// every step and the Identity; an unknown user and a login page stop it
// at the step that failed. (Formerly idp's TestConnectionReport.)
func TestHeadlessLogin(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	for _, proto := range []sso.Protocol{sso.OIDC, sso.SAML} {
		t.Run(string(proto), func(t *testing.T) {
			conn := headlessConn(t, srv, proto)
			rep := mockidp.HeadlessLogin(context.Background(), conn, srv.Client(), "bob@acme.test")
			if !rep.OK || rep.Identity == nil || rep.Identity.Email != "bob@acme.test" || len(rep.Steps) != 5 {
				t.Fatalf("report %+v", rep)
			}
			for _, s := range rep.Steps {
				if !s.OK {
					t.Fatalf("step %+v failed in an OK report", s)
				}
			}
			// A user the IdP does not know: the report says where it stopped.
			rep = mockidp.HeadlessLogin(context.Background(), conn, srv.Client(), "nobody@acme.test")
			if rep.OK || rep.Identity != nil || rep.Steps[len(rep.Steps)-1].OK {
				t.Fatalf("report for an unknown user %+v", rep)
			}
			// No hint: the persona shows its login page, which cannot be filled.
			rep = mockidp.HeadlessLogin(context.Background(), conn, srv.Client(), "")
			if last := rep.Steps[len(rep.Steps)-1]; rep.OK || last.Name != "identity provider answered" || !strings.Contains(last.Detail, "login page") {
				t.Fatalf("report without a hint %+v", rep)
			}
		})
	}
}

// modeRP is a relying party of the mock Okta (go-oidc and oauth2) that
// asks for its authorization responses in a response_mode. It keeps its
// logins server side, by state: a browser would not send a SameSite=Lax
// cookie with the IdP's cross-site form post.
type modeRP struct {
	mode     string
	ctx      context.Context
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier

	mu     sync.Mutex
	logins map[string]string // state: PKCE verifier
	posts  int               // answers that came by POST
}

func newModeRP(t *testing.T, srv *mockidp.Server, mode, redirectURL string) *modeRP {
	t.Helper()
	p := srv.Persona("okta")
	ctx := oidc.ClientContext(context.Background(), srv.Client())
	provider, err := oidc.NewProvider(ctx, p.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	cl := p.Clients()[0]
	ep := provider.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	if cl.TokenEndpointAuthMethod == "client_secret_basic" {
		ep.AuthStyle = oauth2.AuthStyleInHeader
	}
	return &modeRP{mode: mode, ctx: ctx, logins: map[string]string{},
		verifier: provider.Verifier(&oidc.Config{ClientID: cl.ClientID}),
		oauth: oauth2.Config{ClientID: cl.ClientID, ClientSecret: cl.ClientSecret, Endpoint: ep,
			RedirectURL: redirectURL, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}}
}

// authURL starts a login as loginHint.
func (r *modeRP) authURL(loginHint string) string {
	state, verifier := rand.Text(), oauth2.GenerateVerifier()
	r.mu.Lock()
	r.logins[state] = verifier
	r.mu.Unlock()
	return r.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("login_hint", loginHint), oauth2.SetAuthURLParam("response_mode", r.mode))
}

// finish takes the IdP's answer: by POST in form_post mode, in the query
// otherwise.
func (r *modeRP) finish(req *http.Request) (*idp.Identity, error) {
	if r.mode == "form_post" && req.Method != http.MethodPost {
		return nil, fmt.Errorf("form_post answer by %s", req.Method)
	}
	if err := req.ParseForm(); err != nil {
		return nil, err
	}
	if req.Method == http.MethodPost {
		r.mu.Lock()
		r.posts++
		r.mu.Unlock()
	}
	r.mu.Lock()
	verifier, ok := r.logins[req.Form.Get("state")]
	delete(r.logins, req.Form.Get("state"))
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no login with state %q (%v)", req.Form.Get("state"), req.Form)
	}
	tok, err := r.oauth.Exchange(r.ctx, req.Form.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, err
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(r.ctx, raw)
	if err != nil {
		return nil, err
	}
	var claims struct {
		Email string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, err
	}
	return &idp.Identity{Subject: idt.Subject, Email: claims.Email}, nil
}

// modeConnector is an idp.Connector over a modeRP.
type modeConnector struct{ *modeRP }

func (c modeConnector) Connection() idp.Connection {
	return idp.Connection{ID: "okta-" + c.mode, Protocol: sso.OIDC, Vendor: sso.Okta,
		OIDC: &idp.OIDCSettings{ClientID: c.oauth.ClientID, RedirectURL: c.oauth.RedirectURL}}
}

func (c modeConnector) Start(w http.ResponseWriter, r *http.Request, _, loginHint string) error {
	http.Redirect(w, r, c.authURL(loginHint), http.StatusFound)
	return nil
}

func (c modeConnector) Finish(_ http.ResponseWriter, r *http.Request) (*idp.Identity, string, error) {
	id, err := c.finish(r)
	return id, "/", err
}

// TestHeadlessLoginResponseModes: a relying party that asks for
// response_mode=form_post gets the code by POST from the IdP's
// auto-submitting form; one that asks for fragment is told that a
// headless login cannot deliver it.
func TestHeadlessLoginResponseModes(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())

	rp := newModeRP(t, srv, "form_post", "http://127.0.0.1:8080/callback")
	rep := mockidp.HeadlessLogin(context.Background(), modeConnector{rp}, srv.Client(), "bob@acme.test")
	if !rep.OK || rep.Identity == nil || rep.Identity.Email != "bob@acme.test" || rp.posts != 1 {
		t.Fatalf("form_post report %+v, %d posts", rep, rp.posts)
	}
	if d := rep.Steps[2].Detail; d != "authorization response posted to http://127.0.0.1:8080/callback" {
		t.Fatalf("form_post step %q", d)
	}

	rp = newModeRP(t, srv, "fragment", "http://127.0.0.1:8080/callback")
	rep = mockidp.HeadlessLogin(context.Background(), modeConnector{rp}, srv.Client(), "bob@acme.test")
	if last := rep.Steps[len(rep.Steps)-1]; rep.OK || last.Name != "identity provider answered" || !strings.Contains(last.Detail, "response_mode=fragment") {
		t.Fatalf("fragment report %+v", rep)
	}
}

// TestBrowseResponseModes: Browse posts an OIDC form_post page to the
// app, as a browser's script would; a fragment answer stops it with a
// *FragmentResponseError that holds the parameters.
func TestBrowseResponseModes(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	// One app per mode: the clients register http://127.0.0.1/callback,
	// which a loopback redirect URI matches on any port.
	rps, apps := map[string]*modeRP{}, map[string]string{}
	for _, mode := range []string{"query", "form_post", "fragment"} {
		var rp *modeRP
		app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/start":
				http.Redirect(w, r, rp.authURL(r.URL.Query().Get("email")), http.StatusFound)
			case "/callback":
				id, err := rp.finish(r)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				_, _ = io.WriteString(w, "signed in as "+id.Email)
			default:
				http.NotFound(w, r)
			}
		}))
		t.Cleanup(app.Close)
		rp = newModeRP(t, srv, mode, app.URL+"/callback")
		rps[mode], apps[mode] = rp, app.URL
	}
	browse := func(mode string) (string, error) {
		jar, _ := cookiejar.New(nil)
		hc := srv.Client()
		hc.Jar = jar
		resp, err := mockidp.Browse(hc, apps[mode]+"/start?email=bob@acme.test")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s", resp.StatusCode, b), nil
	}
	for _, mode := range []string{"query", "form_post"} {
		if got, err := browse(mode); err != nil || got != "200 signed in as bob@acme.test" {
			t.Fatalf("%s: %q %v", mode, got, err)
		}
	}
	if rps["form_post"].posts != 1 || rps["query"].posts != 0 {
		t.Fatalf("posts: form_post %d, query %d", rps["form_post"].posts, rps["query"].posts)
	}

	_, err := browse("fragment")
	var fe *mockidp.FragmentResponseError
	if !errors.As(err, &fe) || fe.URL != apps["fragment"]+"/callback" || fe.Params.Get("code") == "" || !strings.Contains(err.Error(), "response_mode=fragment") {
		t.Fatalf("fragment: %v", err)
	}
	// The parameters are the app's to take, as its page script would.
	id, err := rps["fragment"].finish(httptest.NewRequest(http.MethodGet, fe.URL+"?"+fe.Params.Encode(), nil))
	if err != nil || id.Email != "bob@acme.test" {
		t.Fatalf("fragment parameters: %+v %v", id, err)
	}
}
