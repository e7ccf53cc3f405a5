package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/mockidp/mockclerk"
)

// TestClerkBackendHandshakeInterop: Clerk's own server SDK, @clerk/backend,
// configured with the mock Clerk's keys (over TLS, trusting the mock's CA),
// verifies a mock session token, and resolves a signed-in browser's page
// load through the mock's handshake: in development with the dev browser
// in the query, in production with the __client cookie and the
// __clerk_handshake cookie, and once by nonce (redeemed at the mock's
// Backend API). Each ends signed in as the user who signed in at the
// persona, and the next page load, carrying the cookies the handshake set,
// is signed in without another handshake.
func TestClerkBackendHandshakeInterop(t *testing.T) {
	t.Parallel()
	node := testenv.LookPath(t, "node", installNode)
	dir := testenv.NodeModules(t)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@clerk", "backend")); err != nil {
		testenv.Missing(t, "@clerk/backend in interop/node", "run `npm ci --prefix interop/node` (scripts/test.sh does)")
	}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app") }))
	t.Cleanup(app.Close)
	page := app.URL + "/page?tab=settings" // a query of its own, kept through the flow
	for _, tc := range []struct {
		name, instance string
		nonce          bool
	}{
		{"development", mockclerk.Development, false},
		{"production", mockclerk.Production, false},
		{"production nonce", mockclerk.Production, true},
		{"development nonce", mockclerk.Development, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := mockidp.DefaultConfig()
			cfg.Clerk[0].Instance, cfg.Clerk[0].HandshakeNonce = tc.instance, tc.nonce
			cfg.Clerk[0].AllowedRedirectURLs = []string{"http://127.0.0.1/page"}
			srv := mockidp.StartTLS(t, cfg)
			c := srv.Clerk("clerk")
			jar, _ := cookiejar.New(nil)
			browser := srv.Client()
			browser.Jar = jar

			// The person signs in at the hosted sign-in and lands on the app.
			signIn := url.Values{"redirect_url": {page}, "email": {"alice@acme.test"}}
			if tc.instance == mockclerk.Development {
				db := newDevBrowser(t, browser, c)
				signIn.Set("__clerk_db_jwt", db)
			}
			resp, err := mockidp.Browse(browser, c.SignInURL()+"?"+signIn.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			landed := resp.Request.URL.String()
			if resp.StatusCode != 200 || !strings.HasPrefix(landed, app.URL+"/page?") {
				t.Fatalf("sign-in ended at %s with %d", landed, resp.StatusCode)
			}
			fapi, _ := url.Parse(c.FrontendAPIURL())
			var cookie []string
			for _, ck := range jar.Cookies(fapi) {
				if ck.Name == "__client" || ck.Name == "__client_uat" {
					cookie = append(cookie, ck.Name+"="+ck.Value)
				}
			}
			if want := map[bool]int{true: 2, false: 0}[tc.instance == mockclerk.Production]; len(cookie) != want {
				t.Fatalf("%s: the FAPI's cookies %v", tc.instance, cookie)
			}
			tok, err := c.MintSessionToken("bob@acme.test", "acme", "member", app.URL)
			if err != nil {
				t.Fatal(err)
			}
			arg, _ := json.Marshal(map[string]string{"secretKey": c.SecretKey(), "publishableKey": c.PublishableKey(),
				"apiUrl": strings.TrimSuffix(c.BackendAPIURL(), "/v1"), "token": tok, "appUrl": landed,
				"instance": tc.instance, "cookie": strings.Join(cookie, "; "), "authorizedParty": app.URL})
			ca := filepath.Join(t.TempDir(), "ca.pem")
			if err := os.WriteFile(ca, srv.CACertPEM(), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "clerk-backend.mjs"), string(arg))
			cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+ca, "CLERK_TELEMETRY_DISABLED=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, runErr := cmd.Output()
			var r struct {
				OK           bool             `json:"ok"`
				Error        string           `json:"error"`
				VerifySub    string           `json:"verify_sub"`
				SignedInUser string           `json:"signed_in_user"`
				LocalUser    string           `json:"local_user"`
				Nonce        bool             `json:"nonce"`
				Steps        []map[string]any `json:"steps"`
			}
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatalf("node printed %q (%v; stderr %s)", out, runErr, stderr.String())
			}
			alice := userID(t, c, "alice@acme.test")
			bob := userID(t, c, "bob@acme.test")
			if !r.OK || r.VerifySub != bob || r.SignedInUser != alice || r.LocalUser != alice || r.Nonce != tc.nonce {
				t.Fatalf("@clerk/backend: %+v (want verify %s, signed in %s, nonce %v; stderr %s)", r, bob, alice, tc.nonce, stderr.String())
			}
			// The hand-off carried the SDK's reason for it.
			wantReason := map[string]string{mockclerk.Development: "dev-browser-sync", mockclerk.Production: "client-uat-but-no-session-token"}[tc.instance]
			if r.Steps[0]["reason"] != wantReason || !strings.HasPrefix(r.Steps[0]["location"].(string), c.FrontendAPIURL()+"/v1/client/handshake?") {
				t.Fatalf("first step %v", r.Steps[0])
			}
			if r.Steps[1]["cache_control"] != "no-store" {
				t.Fatalf("handshake step %v", r.Steps[1])
			}
			if runErr != nil {
				t.Fatalf("node: %v: %s", runErr, stderr.String())
			}
		})
	}
}

// newDevBrowser is what clerk-js does without a dev browser: POST
// /v1/dev_browser on the FAPI.
func newDevBrowser(t *testing.T, client *http.Client, c *mockclerk.Clerk) string {
	t.Helper()
	resp, err := client.Post(c.FrontendAPIURL()+"/v1/dev_browser", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var db struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&db); err != nil || resp.StatusCode != 200 || db.ID == "" {
		t.Fatalf("dev browser: %d %v %+v", resp.StatusCode, err, db)
	}
	return db.ID
}

// userID looks a user up at the mock's Backend API by email.
func userID(t *testing.T, c *mockclerk.Clerk, email string) string {
	t.Helper()
	id, ok := c.UserID(email)
	if !ok {
		t.Fatalf("no user %s", email)
	}
	return id
}
