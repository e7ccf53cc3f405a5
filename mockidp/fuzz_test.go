package mockidp

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// fuzzServer is a mounted, unstarted server: fuzzing drives its Handler.
func fuzzServer(f *testing.F) *Server {
	cfg := DefaultConfig()
	cfg.BaseURL = "http://127.0.0.1:1"
	srv, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	return srv
}

// FuzzTokenEndpoint posts arbitrary bodies and Basic credentials to the
// token endpoint: the answer is always a 4xx with an OAuth error, never a
// panic or a 5xx.
func FuzzTokenEndpoint(f *testing.F) {
	srv := fuzzServer(f)
	f.Add("grant_type=authorization_code&code=x&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback", "0oa1mockoktaclient", "okta-secret")
	f.Add("grant_type=refresh_token&refresh_token=abc", "", "")
	f.Add("%zz", "a%zz", "b")
	f.Add("client_id=0oa1mockoktaclient&client_secret=okta-secret&grant_type=authorization_code", "", "")
	f.Fuzz(func(t *testing.T, body, id, secret string) {
		req := httptest.NewRequest("POST", "/okta/oauth2/default/v1/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if id != "" || secret != "" {
			req.SetBasicAuth(id, secret)
		}
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, req)
		if w.Code < 400 || w.Code >= 500 || !strings.Contains(w.Body.String(), `"error"`) {
			t.Fatalf("status %d body %s", w.Code, w.Body)
		}
	})
}

// FuzzAuthorize sends arbitrary query strings to the authorization
// endpoint: a page (200/4xx) or a redirect, never a 5xx.
func FuzzAuthorize(f *testing.F) {
	srv := fuzzServer(f)
	f.Add("client_id=0oa1mockoktaclient&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcallback&response_type=code&scope=openid&login_hint=alice%40acme.test&code_challenge=abcdefghijabcdefghijabcdefghijabcdefghij123&code_challenge_method=S256")
	f.Add("client_id=0oa1mockoktaclient&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&response_type=token")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest("GET", "/okta/oauth2/default/v1/authorize", nil)
		req.URL.RawQuery = query
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q", w.Code, query)
		}
		if w.Code == http.StatusFound && !strings.HasPrefix(w.Header().Get("Location"), "http://127.0.0.1") {
			t.Fatalf("redirected off the registration to %q", w.Header().Get("Location"))
		}
	})
}

// FuzzParseConfig: arbitrary configuration files are refused or accepted
// without panicking, and what is accepted builds a server.
func FuzzParseConfig(f *testing.F) {
	f.Add(string(DefaultConfigYAML()))
	f.Add(`{"personas":[{"name":"a","vendor":"okta"}]}`)
	f.Add("personas: [{name: x, vendor: azure_ad, tenant: 00000000-0000-0000-0000-000000000000}]")
	f.Fuzz(func(t *testing.T, src string) {
		cfg, err := ParseConfig([]byte(src))
		if err != nil {
			return
		}
		cfg.BaseURL = "http://127.0.0.1:1"
		if _, err := New(cfg); err != nil {
			t.Fatalf("a valid configuration did not build: %v", err)
		}
	})
}

// FuzzSAMLAuthnRequest feeds arbitrary AuthnRequests to the SSO endpoint
// with the HTTP-Redirect binding (deflate + base64 of the fuzzed XML; the
// inflation is bounded) and the HTTP-POST binding: never a panic or a 5xx.
func FuzzSAMLAuthnRequest(f *testing.F) {
	srv := fuzzServer(f)
	if err := srv.Persona("okta").RegisterServiceProvider(ServiceProviderConfig{EntityID: "https://sp.test/metadata", ACSURL: "https://sp.test/acs"}); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="id1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" AssertionConsumerServiceURL="https://sp.test/acs"><saml:Issuer>https://sp.test/metadata</saml:Issuer></samlp:AuthnRequest>`), false)
	f.Add([]byte(`<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>`), true)
	f.Add([]byte("not xml"), false)
	f.Fuzz(func(t *testing.T, xmlBytes []byte, post bool) {
		var req *http.Request
		if post {
			form := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(xmlBytes)) + "&RelayState=x"
			req = httptest.NewRequest("POST", "/okta/saml/sso", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			var buf bytes.Buffer
			w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
			w.Write(xmlBytes)
			w.Close()
			req = httptest.NewRequest("GET", "/okta/saml/sso?SAMLRequest="+url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes())), nil)
		}
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("status %d", w.Code)
		}
	})
}
