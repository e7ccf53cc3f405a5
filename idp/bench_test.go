package idp_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/crewjam/saml"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
	"golang.org/x/oauth2"
)

type acceptAll struct{}

func (acceptAll) Consume(context.Context, string, time.Time) error { return nil }

// BenchmarkACS measures the full ACS path (form, size and DOCTYPE checks,
// crewjam's validation, replay cache, profile mapping) beside crewjam's
// bare ServiceProvider.ParseXMLResponse on the same signed Okta-shape
// response, in the same run. The replay cache accepts every use here so
// one response serves every iteration; its own cost is one map insert.
func BenchmarkACS(b *testing.B) {
	srv := mockidp.Start(b, mockidp.DefaultConfig())
	p := srv.Persona("okta")
	const spEntity, acs = "https://sp.example.test/saml/metadata", "https://sp.example.test/saml/acs"
	c := idp.Connection{ID: "bench", Protocol: sso.SAML, Vendor: sso.Okta, SAML: &idp.SAMLSettings{
		IDPMetadataURL: p.SAMLMetadataURL(), EntityID: spEntity, ACSURL: acs, AllowIDPInitiated: true}}
	if err := p.RegisterServiceProvider(mockidp.ServiceProviderConfig{EntityID: spEntity, ACSURL: acs}); err != nil {
		b.Fatal(err)
	}
	conn, err := idp.New(context.Background(), c, idp.Options{HTTPClient: srv.Client(), InsecureAllowLoopback: true, ReplayCache: acceptAll{}, StateKey: testStateKey})
	if err != nil {
		b.Fatal(err)
	}
	b64, err := p.SAMLResponse(spEntity, "alice@acme.test", "")
	if err != nil {
		b.Fatal(err)
	}
	form := url.Values{"SAMLResponse": {b64}, "RelayState": {"/app"}}.Encode()
	b.Run("ssokit_acs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := httptest.NewRequest("POST", acs, strings.NewReader(form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if _, _, err := conn.Finish(httptest.NewRecorder(), r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("crewjam_parse", func(b *testing.B) {
		acsURL, _ := url.Parse(acs)
		mdResp, err := srv.Client().Get(p.SAMLMetadataURL())
		if err != nil {
			b.Fatal(err)
		}
		var md saml.EntityDescriptor
		if err := decodeXML(mdResp, &md); err != nil {
			b.Fatal(err)
		}
		sp := &saml.ServiceProvider{EntityID: spEntity, AcsURL: *acsURL, IDPMetadata: &md, AllowIDPInitiated: true}
		raw, _ := base64.StdEncoding.DecodeString(b64)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sp.ParseXMLResponse(raw, []string{""}, *acsURL); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOIDCCallback measures the callback (state cookie, code exchange
// against the in-process mock's token endpoint over loopback HTTP, ID
// token verification, nonce and at_hash) beside go-oidc's bare Verify of an
// ID token from the same persona. The authorization request before each
// callback is outside the timer.
func BenchmarkOIDCCallback(b *testing.B) {
	srv := mockidp.Start(b, mockidp.DefaultConfig())
	p := srv.Persona("okta")
	a := newApp(b)
	conn := connect(b, srv, oidcConn(p, a, sso.Okta), idp.Options{})
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	callback := func() *http.Request {
		start := httptest.NewRecorder()
		if err := conn.Start(start, httptest.NewRequest("GET", "/login", nil), "/", "bob@acme.test"); err != nil {
			b.Fatal(err)
		}
		resp, err := client.Get(start.Header().Get("Location"))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		r := httptest.NewRequest("GET", resp.Header.Get("Location"), nil)
		for _, ck := range start.Result().Cookies() {
			r.AddCookie(ck)
		}
		return r
	}
	var rawIDToken string
	b.Run("ssokit_callback", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			r := callback()
			b.StartTimer()
			id, _, err := conn.Finish(httptest.NewRecorder(), r)
			if err != nil {
				b.Fatal(err)
			}
			_ = id
		}
	})
	b.Run("go_oidc_verify", func(b *testing.B) {
		ctx := oidc.ClientContext(context.Background(), srv.Client())
		prov, err := oidc.NewProvider(ctx, p.Issuer())
		if err != nil {
			b.Fatal(err)
		}
		cl := p.Clients()[0]
		conf := oauth2.Config{ClientID: cl.ClientID, ClientSecret: cl.ClientSecret, Endpoint: prov.Endpoint(), RedirectURL: a.srv.URL + "/callback", Scopes: []string{"openid"}}
		conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
		verifier := oauth2.GenerateVerifier()
		resp, err := client.Get(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("login_hint", "bob@acme.test")))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		back, _ := url.Parse(resp.Header.Get("Location"))
		tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			b.Fatal(err)
		}
		rawIDToken, _ = tok.Extra("id_token").(string)
		v := prov.Verifier(&oidc.Config{ClientID: cl.ClientID})
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, rawIDToken); err != nil {
				b.Fatal(err)
			}
		}
	})
}
