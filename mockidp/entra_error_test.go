package mockidp

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestAzureTokenErrorShape: the Azure persona's token endpoint answers an
// error as Entra does (Microsoft identity platform, "Microsoft Entra
// authentication and authorization error codes", its sample error
// response): beside error and error_description, error_codes with the
// AADSTS number, timestamp, trace_id, correlation_id and error_uri, and an
// error_description that ends with the trace ID, correlation ID and
// timestamp. Other vendors answer RFC 6749's two members.
func TestAzureTokenErrorShape(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	p := srv.Persona("azure")
	tokenURL := newRP(t, srv, "azure").oauth.Endpoint.TokenURL
	status, body := appTokenRequest(t, srv, tokenURL, p.Clients()[0], false, nil) // no scope: AADSTS900144
	if status != 400 || body["error"] != "invalid_request" {
		t.Fatalf("%d %v", status, body)
	}
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	codes, _ := body["error_codes"].([]any)
	ts, _ := body["timestamp"].(string)
	trace, _ := body["trace_id"].(string)
	corr, _ := body["correlation_id"].(string)
	desc, _ := body["error_description"].(string)
	if len(codes) != 1 || codes[0] != float64(900144) {
		t.Errorf("error_codes %v, want [900144]", body["error_codes"])
	}
	if _, err := time.Parse("2006-01-02 15:04:05Z", ts); err != nil {
		t.Errorf("timestamp %q: %v", ts, err)
	}
	if !guid.MatchString(trace) || !guid.MatchString(corr) || trace == corr {
		t.Errorf("trace_id %q, correlation_id %q", trace, corr)
	}
	if body["error_uri"] != "https://login.microsoftonline.com/error?code=900144" {
		t.Errorf("error_uri %v", body["error_uri"])
	}
	if !strings.HasPrefix(desc, "AADSTS900144: ") || !strings.HasSuffix(desc, "\r\nTrace ID: "+trace+"\r\nCorrelation ID: "+corr+"\r\nTimestamp: "+ts) {
		t.Errorf("error_description %q", desc)
	}
	// Okta answers RFC 6749's members only.
	okta := srv.Persona("okta")
	status, body, _ = tokenRequest(t, srv, newRP(t, srv, "okta").oauth.Endpoint.TokenURL, map[string][]string{"grant_type": {"authorization_code"}, "code": {"nope"}},
		okta.Clients()[0].ClientID, okta.Clients()[0].ClientSecret)
	if status != 400 || len(body) != 2 || body["error"] != "invalid_grant" {
		t.Errorf("okta: %d %v", status, body)
	}
}
