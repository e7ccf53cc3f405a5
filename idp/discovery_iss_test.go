package idp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ssokit/ssokit/sso"
)

// TestDiscoveryIssParamNotBool: discovery's
// authorization_response_iss_parameter_supported as something other than
// a JSON boolean is not "true", and does not make the document unusable
// (before RFC 9207 was checked, the member was not read at all).
func TestDiscoveryIssParamNotBool(t *testing.T) {
	for _, v := range []any{"true", 1, true} {
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/auth", "token_endpoint": srv.URL + "/token",
				"jwks_uri": srv.URL + "/jwks", "authorization_response_iss_parameter_supported": v})
		}))
		c, err := New(context.Background(), Connection{ID: "x", Protocol: sso.OIDC, Vendor: sso.Generic, Attributes: map[string]string{"email": "email"},
			OIDC: &OIDCSettings{Issuer: srv.URL, ClientID: "c", ClientSecret: "s", RedirectURL: "https://app.test/cb"}},
			Options{InsecureAllowLoopback: true, StateKey: make([]byte, 32)})
		srv.Close()
		if err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		if got := c.(*oidcConnector).issParam; got != (v == true) {
			t.Errorf("%#v: issParam %v", v, got)
		}
	}
}
