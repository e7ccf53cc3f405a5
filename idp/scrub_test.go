package idp

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// TestCheckClientSecretScrubbed: the connection check logs a token
// endpoint's unexpected error without the client secret it echoes.
func TestCheckClientSecretScrubbed(t *testing.T) {
	const secret = "s3cr3t-value"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, sec, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"unauthorized_client","error_description":"client secret %s may not use this grant"}`, sec)
	}))
	defer srv.Close()
	var logs bytes.Buffer
	o := &oidcConnector{opts: Options{InsecureAllowLoopback: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		oauth: oauth2.Config{ClientID: "app", ClientSecret: secret, Endpoint: oauth2.Endpoint{TokenURL: srv.URL, AuthStyle: oauth2.AuthStyleInHeader}}}
	err := o.CheckClientSecret(context.Background())
	if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) || !strings.Contains(logs.String(), "unauthorized_client") {
		t.Fatalf("err %v, log %s", err, logs.String())
	}
}
