package controlplane_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/client"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
	"github.com/ssokit/ssokit/store"
)

// atRest is a store that keeps what it is given somewhere other than this
// process's memory, as the SQL stores do (the control plane cannot tell it
// from one).
type atRest struct{ *store.Memory }

// A direct connection's OIDC client secret reaches a store other than the
// in-process memory one only encrypted with Config.SecretsKeys: the stored
// bytes hold it in no readable form, sign-in still works, a rotated key
// list still opens it, and without a key it is refused, not kept in the
// clear.
func TestClientSecretEncryptedAtRest(t *testing.T) {
	t.Parallel()
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	p := newPlaneWith(t, nil, func(c *controlplane.Config) {
		c.Store = atRest{c.Store.(*store.Memory)}
		c.SecretsKeys = [][]byte{k1}
	})
	okta := globexOIDC(t, p) // saves a connection whose secret is globex-secret
	org, err := p.st.GetOrg(context.Background(), "globex")
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range leakForms("globex-secret") {
		if bytes.Contains(org.Connection, []byte(form)) {
			t.Fatalf("the stored connection holds the secret as %q: %s", form, org.Connection)
		}
	}
	if !bytes.Contains(org.Connection, []byte(`"ssokit-sealed:v1:`)) {
		t.Fatalf("the stored secret is not sealed: %s", org.Connection)
	}
	if err := okta.PutUser(mockidp.UserConfig{Email: "hank@globex.test"}); err != nil {
		t.Fatal(err)
	}
	okta.QueueUser("hank@globex.test")
	if status, body := directSignIn(t, p, "globex"); status != http.StatusOK || !strings.Contains(body, "hank@globex.test") {
		t.Fatalf("sign-in with the sealed secret: %d %s", status, body)
	}

	// Another control plane on the same store: a rotated key list (new key
	// first) opens it, a list without the old key does not.
	for _, tc := range []struct {
		name  string
		keys  [][]byte
		state string
	}{
		{"rotated", [][]byte{k2, k1}, api.ConnectionActive},
		{"old key dropped", [][]byte{k2}, api.ConnectionError},
	} {
		cp, err := controlplane.New(controlplane.Config{AppURL: p.app.URL, StateKey: bytes.Repeat([]byte("s"), 32), EphemeralSessionKey: true,
			Store: atRest{p.st}, SecretsKeys: tc.keys, BootstrapAdminKey: adminKey, InsecureAllowLoopbackIdP: true, HTTPClient: p.mock.Client()})
		if err != nil {
			t.Fatal(err)
		}
		st := ssoStatusOf(t, cp, "globex")
		if st.ConnectionState != tc.state {
			t.Errorf("%s: connection %s, want %s", tc.name, st.ConnectionState, tc.state)
		}
	}

	// A sealed secret copied into another organization does not open there.
	ctx := context.Background()
	if _, err := p.admin.Organizations.Create(ctx, "copycat", "Copycat", "enterprise"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.st.UpdateOrg(ctx, "copycat", func(o *store.Org) error { o.Connection, o.SSOConfigured = org.Connection, true; return nil }); err != nil {
		t.Fatal(err)
	}
	if st, err := p.admin.Organizations.SSOStatus(ctx, "copycat"); err != nil || st.ConnectionState != api.ConnectionError {
		t.Errorf("a copied sealed secret: %+v %v", st, err)
	}
}

// Without SecretsKeys, a store that keeps data at rest is never given a
// client secret: saving the connection is refused, and nothing is saved.
func TestClientSecretRefusedWithoutKey(t *testing.T) {
	t.Parallel()
	p := newPlaneWith(t, nil, func(c *controlplane.Config) { c.Store = atRest{c.Store.(*store.Memory)} })
	ctx := context.Background()
	if _, err := p.admin.Organizations.Create(ctx, "globex", "Globex", "enterprise"); err != nil {
		t.Fatal(err)
	}
	okta := p.mock.Persona("okta")
	conn := &idp.Connection{ID: "globex", Protocol: sso.OIDC, Vendor: sso.Okta,
		OIDC: &idp.OIDCSettings{Issuer: okta.Issuer(), ClientID: "globex-app", ClientSecret: "globex-secret", RedirectURL: p.app.URL + "/auth/sso/oidc/globex"}}
	_, err := p.admin.Organizations.ConfigureSSO(ctx, "globex", api.SSOSettings{Connection: rawJSON(t, conn), AllowedDomains: []string{"globex.test"}})
	var e *client.Error
	if !errors.As(err, &e) || e.Status != 422 || e.Code != "secrets_key_required" {
		t.Fatalf("saving a client secret without a key: %v", err)
	}
	if org, _ := p.st.GetOrg(ctx, "globex"); len(org.Connection) != 0 || org.SSOConfigured {
		t.Fatalf("saved anyway: %s", org.Connection)
	}
	// A key of the wrong size is a configuration error.
	if _, err := controlplane.New(controlplane.Config{AppURL: "https://app.example", StateKey: bytes.Repeat([]byte("s"), 32), EphemeralSessionKey: true,
		SecretsKeys: [][]byte{make([]byte, 16)}}); err == nil || !strings.Contains(err.Error(), "SecretsKeys") {
		t.Errorf("a 16-byte key: %v", err)
	}
}

// newTestServer serves h until the test ends and returns its URL.
func newTestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// ssoStatusOf asks cp (served in memory) for org's SSO status as the
// platform administrator.
func ssoStatusOf(t *testing.T, cp *controlplane.API, org string) api.SSOStatus {
	t.Helper()
	st, err := newClient(t, newTestServer(t, cp), adminKey, nil).Organizations.SSOStatus(context.Background(), org)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
