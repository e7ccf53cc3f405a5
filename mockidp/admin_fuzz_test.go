package mockidp

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzAdminAPI sends arbitrary JSON bodies to the admin API's writing
// routes (those that fetch no URL): nothing panics, nothing is a 5xx, and
// a refusal is a 4xx with a JSON error code.
func FuzzAdminAPI(f *testing.F) {
	srv := fuzzServer(f)
	routes := []struct{ method, path string }{
		{"PUT", "/admin/v1/personas/okta/users/fuzz@acme.test"},
		{"PUT", "/admin/v1/personas/okta/clients/fuzz-client"},
		{"PUT", "/admin/v1/personas/okta/clock"},
		{"POST", "/admin/v1/personas/okta/faults"},
		{"POST", "/admin/v1/personas/okta/queue"},
		{"POST", "/admin/v1/clerk/clerk/faults"},
	}
	for i, s := range []string{`{"email":"fuzz@acme.test","given_name":"F","groups":["admins"]}`,
		`{"client_id":"fuzz-client","client_secret":"s","redirect_uris":["http://127.0.0.1/cb"]}`,
		`{"offset_seconds":-3600}`, `{"fault":"token_error_500","times":1}`, `{"email":"alice@acme.test"}`, `{"fault":"bapi_429","times":2}`,
		`{"groups":[` + strings.Repeat(`"g",`, 50) + `"g"]}`, `{"offset_seconds":9223372036854775807}`, `{"times":-1}`, `{"times":1e300}`,
		`null`, `[]`, `{"a":1}{`, "\xff", `{"email":"\u0000"}`} {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := routes[int(route)%len(routes)]
		req := httptest.NewRequest(rt.method, rt.path, strings.NewReader(string(body)))
		req.RemoteAddr, req.Host = "127.0.0.1:1234", "127.0.0.1:1"
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", rt.method, rt.path, body, w.Code, w.Body)
		}
		if w.Code >= 400 && !strings.Contains(w.Body.String(), `"error":"`) {
			t.Fatalf("%s %s %q: %d without a JSON error code: %s", rt.method, rt.path, body, w.Code, w.Body)
		}
		if w.Code == http.StatusOK && strings.Contains(rt.path, "/clock") {
			// Put the clock back: later inputs should meet a sane one.
			reset := httptest.NewRequest("PUT", rt.path, strings.NewReader(`{"offset_seconds":0}`))
			reset.RemoteAddr, reset.Host = req.RemoteAddr, req.Host
			srv.Handler().ServeHTTP(httptest.NewRecorder(), reset)
		}
	})
}

// FuzzSAMLRedirectRaw sends arbitrary bytes, base64-encoded, as the
// HTTP-Redirect binding's SAMLRequest: the raw DEFLATE stream is hostile
// (bombs, truncated blocks, not DEFLATE at all), where FuzzSAMLAuthnRequest
// compresses its input properly. Never a panic or a 5xx.
func FuzzSAMLRedirectRaw(f *testing.F) {
	srv := fuzzServer(f)
	if err := srv.Persona("okta").RegisterServiceProvider(ServiceProviderConfig{EntityID: "https://sp.test/metadata", ACSURL: "https://sp.test/acs"}); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{0x00, 0x00, 0x00, 0xff, 0xff})                   // an empty stored block
	f.Add([]byte{0xed, 0xc1, 0x01, 0x0d, 0x00, 0x00, 0x00, 0xc2}) // the start of a run of zeros
	f.Add([]byte("<samlp:AuthnRequest/>"))
	f.Add([]byte{0x03, 0x00})
	f.Fuzz(func(t *testing.T, raw []byte) {
		q := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(raw)) + "&RelayState=x"
		req := httptest.NewRequest("GET", "/okta/saml/sso?"+q, nil)
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%x: status %d", raw, w.Code)
		}
	})
}
