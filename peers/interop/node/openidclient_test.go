package node_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/mockidp"
)

// loopbackRedirect is a loopback redirect URI with a port: it matches the
// mock's default clients' port-less registrations (RFC 8252).
const loopbackRedirect = "http://127.0.0.1:18080/callback"

// installNode says how to get the node command.
const installNode = "install Node.js 20 (apt-get install -y nodejs)"

// TestOpenIDClientInterop completes the code flow with PKCE and nonce
// against every persona with openid-client v6 (Node.js), verifying each ID
// token again with jose: once over http (allowInsecureRequests), once over
// https with the mock's generated CA, as a strict client runs.
func TestOpenIDClientInterop(t *testing.T) {
	t.Parallel()
	node := testenv.LookPath(t, "node", installNode)
	dir := testenv.NodeModules(t)
	for _, useTLS := range []bool{false, true} {
		name := "http"
		if useTLS {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var srv *mockidp.Server
			if useTLS {
				srv = mockidp.StartTLS(t, mockidp.DefaultConfig())
			} else {
				srv = mockidp.Start(t, mockidp.DefaultConfig())
			}
			type tcase struct {
				Persona      string `json:"persona"`
				Issuer       string `json:"issuer"`
				ClientID     string `json:"client_id"`
				ClientSecret string `json:"client_secret"`
				AuthMethod   string `json:"auth_method"`
				Email        string `json:"email"`
				RedirectURI  string `json:"redirect_uri"`
				Scope        string `json:"scope"`
			}
			// The listing gives each client's registered token endpoint
			// auth method (the persona's default when the client names none).
			var cases []tcase
			for _, p := range srv.Listing().Personas {
				if len(p.Clients) == 0 || len(p.Users) == 0 {
					t.Fatalf("persona %s lists no client or no user", p.Name)
				}
				cl := p.Clients[0]
				cases = append(cases, tcase{Persona: p.Name, Issuer: p.OIDC.Issuer, ClientID: cl.ClientID, ClientSecret: cl.ClientSecret,
					AuthMethod: cl.TokenEndpointAuthMethod, Email: p.Users[0].Email, RedirectURI: loopbackRedirect, Scope: "openid profile email groups"})
			}
			if len(cases) != len(srv.Personas()) {
				t.Fatalf("the listing has %d personas, the server %d", len(cases), len(srv.Personas()))
			}
			arg, _ := json.Marshal(cases)
			args := []string{filepath.Join(dir, "oidc-rp.mjs"), string(arg)}
			env := os.Environ()
			if useTLS {
				ca := filepath.Join(t.TempDir(), "ca.pem")
				if err := os.WriteFile(ca, srv.CACertPEM(), 0o600); err != nil {
					t.Fatal(err)
				}
				env = append(env, "NODE_EXTRA_CA_CERTS="+ca)
			} else {
				args = append(args, "--insecure-http")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, args...)
			cmd.Env = env
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, runErr := cmd.Output()
			results := map[string]map[string]any{}
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				var r map[string]any
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("node printed %q", sc.Text())
				}
				results[r["persona"].(string)] = r
			}
			for _, c := range cases {
				r := results[c.Persona]
				if r == nil || r["ok"] != true {
					t.Errorf("%s: %v (stderr %s)", c.Persona, r, stderr.String())
					continue
				}
				claims := r["claims"].(map[string]any)
				if claims["iss"] != c.Issuer || r["userinfo_sub"] != claims["sub"] {
					t.Errorf("%s: claims %v", c.Persona, claims)
				}
			}
			if runErr != nil && !t.Failed() {
				t.Fatalf("node: %v: %s", runErr, stderr.String())
			}
		})
	}
}
