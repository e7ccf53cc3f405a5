package mockidp_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
	"golang.org/x/oauth2"
)

// A whole headless OpenID Connect login against the mock Okta, with a real
// relying party (go-oidc and x/oauth2).
func Example() {
	srv, err := mockidp.NewServer(mockidp.DefaultConfig()) // in a test: mockidp.Start(t, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	okta := srv.Persona("okta")
	client := okta.Clients()[0]

	ctx := oidc.ClientContext(context.Background(), srv.Client())
	provider, err := oidc.NewProvider(ctx, okta.Issuer())
	if err != nil {
		log.Fatal(err)
	}
	conf := oauth2.Config{ClientID: client.ClientID, ClientSecret: client.ClientSecret,
		Endpoint: provider.Endpoint(), RedirectURL: "http://127.0.0.1:8080/callback",
		Scopes: []string{oidc.ScopeOpenID, "email", "groups"}}

	// login_hint names the user: the mock redirects back at once.
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-1", oidc.Nonce("nonce-1"), oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("login_hint", "alice@acme.test"))
	noFollow := srv.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(authURL)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))

	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		log.Fatal(err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: client.ClientID}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		log.Fatal(err)
	}
	var claims struct {
		Email  string   `json:"email"`
		Groups []string `json:"groups"`
		Ver    int      `json:"ver"`
	}
	idt.Claims(&claims)
	fmt.Println(claims.Email, claims.Groups, claims.Ver, strings.HasPrefix(idt.Subject, "00u"), idt.Nonce)
	// Output: alice@acme.test [admins engineering] 1 true nonce-1
}

// Faults make the next responses misbehave; a correct relying party
// refuses them.
func ExamplePersona_InjectFault() {
	srv, err := mockidp.NewServer(mockidp.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	azure := srv.Persona("azure")
	if err := azure.InjectFault(mockidp.FaultIDTokenExpired, 1); err != nil {
		log.Fatal(err)
	}
	for _, f := range mockidp.Faults()[:3] {
		fmt.Println(f.ID, "at", f.Site)
	}
	// Output:
	// access_denied at authorize
	// alg_none at id_token
	// bad_signature at id_token
}

// A SAML response straight to a test, and an attack armed for the next
// one.
func ExamplePersona_SAMLResponse() {
	srv, err := mockidp.NewServer(mockidp.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	azure := srv.Persona("azure")
	sp := mockidp.ServiceProviderConfig{EntityID: "https://app.example.test/saml/metadata", ACSURL: "https://app.example.test/saml/acs"}
	if err := azure.RegisterServiceProvider(sp); err != nil {
		log.Fatal(err)
	}
	honest, err := azure.SAMLResponse(sp.EntityID, "alice@contoso.test", "id-request-1")
	if err != nil {
		log.Fatal(err)
	}
	azure.NextResponse(mockidp.XSW3)
	wrapped, _ := azure.SAMLResponse(sp.EntityID, "alice@contoso.test", "id-request-1")
	fmt.Println(azure.SAMLEntityID())
	fmt.Println(len(honest) > 0, len(wrapped) > len(honest))
	// Output:
	// https://sts.windows.net/7d2f3c1a-5b8e-4f6a-9c0d-1e2f3a4b5c6d/
	// true true
}

// Run a whole login of an OIDC connection against the mock Okta without
// a browser, reported step by step.
func ExampleHeadlessLogin() {
	srv, err := mockidp.NewServer(mockidp.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	okta := srv.Persona("okta")
	client := okta.Clients()[0]
	conn, err := idp.New(context.Background(), idp.Connection{
		ID: "acme", Protocol: sso.OIDC, Vendor: sso.Okta,
		OIDC: &idp.OIDCSettings{Issuer: okta.Issuer(), ClientID: client.ClientID, ClientSecret: client.ClientSecret,
			RedirectURL: "http://127.0.0.1:8080/callback"},
	}, idp.Options{HTTPClient: srv.Client(), InsecureAllowLoopback: true, StateKey: make([]byte, 32)})
	if err != nil {
		log.Fatal(err)
	}
	rep := mockidp.HeadlessLogin(context.Background(), conn, srv.Client(), "alice@acme.test")
	for _, s := range rep.Steps {
		fmt.Println(s.OK, s.Name)
	}
	fmt.Println(rep.Identity.Email, rep.Identity.Groups, rep.Identity.IdP)
	// Output:
	// true authorization request
	// true identity provider reached
	// true identity provider answered
	// true response verified
	// true identity
	// alice@acme.test [admins engineering] okta
}
