package idp

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestScrubClientSecret: text an OP wrote (a token endpoint's
// error_description) goes into a refusal without the client secret, in
// any of the forms the OP was sent it: raw, form-encoded, or inside the
// Basic header.
func TestScrubClientSecret(t *testing.T) {
	const id, secret = "app:1", "s3cr+t/=x y"
	o := &oidcConnector{oauth: oauth2.Config{ClientID: id, ClientSecret: secret}}
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
	for _, echoed := range []string{
		"invalid client secret " + secret,
		"client_secret=" + url.QueryEscape(secret) + "&code=x",
		"Authorization: Basic " + basic,
	} {
		got := o.scrub(echoed)
		if strings.Contains(got, secret) || strings.Contains(got, url.QueryEscape(secret)) || strings.Contains(got, basic) || !strings.Contains(got, "[client secret]") {
			t.Errorf("scrub(%q) = %q", echoed, got)
		}
	}
	if got := o.scrub("invalid_grant"); got != "invalid_grant" {
		t.Errorf("text without the secret changed: %q", got)
	}
	if got := (&oidcConnector{}).scrub("x"); got != "x" {
		t.Errorf("no secret: %q", got)
	}
}
