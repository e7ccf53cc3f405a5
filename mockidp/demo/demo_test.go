package demo_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/mockidp/demo"
)

// TestSessionCookieOverPlainHTTP: the demo serves plain http on loopback,
// so its session cookie is HttpOnly but not Secure (a browser would not
// keep a Secure cookie from http://127.0.0.1 everywhere), and the password
// user it seeds signs in.
func TestSessionCookieOverPlainHTTP(t *testing.T) {
	t.Parallel()
	d, err := demo.Start(context.Background(), demo.Config{AppAddr: "127.0.0.1:0", MockAddr: "127.0.0.1:0", Headless: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	if !strings.HasPrefix(d.AppURL, "http://127.0.0.1:") {
		t.Fatalf("AppURL %s", d.AppURL)
	}
	if d.API.Sessions().SecureCookie() {
		t.Error("the demo's session cookie is Secure over plain http")
	}
	// The keys are made at start, and the demo says so.
	if s := d.Summary(); !strings.Contains(s, "state key and the session signing key were generated at start") {
		t.Errorf("the summary does not say the keys were generated:\n%s", s)
	}
	body := `{"org":"` + demo.PasswordOrg + `","email":"` + demo.PasswordEmail + `","password":"` + demo.Password + `"}`
	resp, err := http.Post(d.AppURL+"/v1/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("password login: %d", resp.StatusCode)
	}
	var found bool
	for _, c := range resp.Cookies() {
		if c.Name == d.API.Sessions().CookieName() {
			found = true
			if c.Secure || !c.HttpOnly {
				t.Errorf("session cookie Secure=%v HttpOnly=%v, want false, true", c.Secure, c.HttpOnly)
			}
		}
	}
	if !found {
		t.Fatal("no session cookie")
	}
}

// TestMetricsScraped: the demo's control plane answers GET /metrics for
// Prometheus; after known decisions the counters have the expected
// values, and no label carries the people or organizations involved.
func TestMetricsScraped(t *testing.T) {
	t.Parallel()
	d, err := demo.Start(context.Background(), demo.Config{AppAddr: "127.0.0.1:0", MockAddr: "127.0.0.1:0", Headless: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	post := func(password string) {
		body := `{"org":"` + demo.PasswordOrg + `","email":"` + demo.PasswordEmail + `","password":"` + password + `"}`
		resp, err := http.Post(d.AppURL+"/v1/auth/login", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	post(demo.Password)
	post("wrong-horse")
	post("wrong-horse")
	for range 3 {
		req, _ := http.NewRequest("GET", d.AppURL+"/v1/auth/whoami", nil)
		req.Header.Set("Authorization", "Bearer not-a-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(d.AppURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	out := string(b)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", resp.StatusCode, out)
	}
	for sample, want := range map[string]string{
		`ssokit_decisions_total{auth_method="password",credential="",idp_name="",kind="sign_in",outcome="accepted",reason=""}`:                   "1",
		`ssokit_decisions_total{auth_method="password",credential="",idp_name="",kind="sign_in",outcome="refused",reason="invalid_credentials"}`: "2",
		`ssokit_decisions_total{auth_method="",credential="",idp_name="",kind="authentication",outcome="refused",reason="malformed"}`:            "3",
	} {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`)
		if m := re.FindStringSubmatch(out); m == nil || m[1] != want {
			t.Errorf("%s = %v, want %s", sample, m, want)
		}
	}
	if !strings.Contains(out, "ssokit_cache_lookups_total{") || !strings.Contains(out, "ssokit_jwks_fetches_total") {
		t.Errorf("the cache and key set counters are missing:\n%s", out)
	}
	for _, who := range []string{demo.PasswordEmail, demo.PasswordOrg + `"`, "not-a-token"} {
		if strings.Contains(out, who) {
			t.Errorf("%q reached the metrics", who)
		}
	}
}

// TestSummaryPrintsOnlyAGeneratedKey: a bootstrap key the caller supplied
// (SSOKIT_BOOTSTRAP_ADMIN_KEY, a real one) is not printed in the summary;
// one the demo made is.
func TestSummaryPrintsOnlyAGeneratedKey(t *testing.T) {
	d, err := demo.Start(context.Background(), demo.Config{AppAddr: "127.0.0.1:0", MockAddr: "127.0.0.1:0", Headless: true,
		AdminKey: "my-real-secret-admin-key"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if s := d.Summary(); strings.Contains(s, "my-real-secret-admin-key") || !strings.Contains(s, "not printed") {
		t.Errorf("summary with a supplied key:\n%s", s)
	}
	g, err := demo.Start(context.Background(), demo.Config{AppAddr: "127.0.0.1:0", MockAddr: "127.0.0.1:0", Headless: true})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if !strings.Contains(g.Summary(), g.AdminKey) {
		t.Error("a generated key is not in the summary")
	}
}

// TestLoopbackOnly: the demo, with its known password and plain http,
// refuses to listen anywhere but loopback, for either server, before it
// listens at all; loopback in any spelling is taken.
func TestLoopbackOnly(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "127.0.0.1"} {
		for _, cfg := range []demo.Config{{AppAddr: addr, MockAddr: "127.0.0.1:0"}, {AppAddr: "127.0.0.1:0", MockAddr: addr}} {
			d, err := demo.Start(context.Background(), cfg)
			if err == nil {
				d.Close()
				t.Errorf("%+v: the demo started", cfg)
				continue
			}
			if addr != "127.0.0.1" && !strings.Contains(err.Error(), "loopback only") {
				t.Errorf("%+v: %v, want a refusal saying loopback only", cfg, err)
			}
		}
	}
	for _, addr := range []string{"[::1]:0", "localhost:0", "127.0.0.2:0"} {
		d, err := demo.Start(context.Background(), demo.Config{AppAddr: addr, MockAddr: "127.0.0.1:0", Headless: true})
		if err != nil {
			if strings.Contains(err.Error(), "loopback only") {
				t.Errorf("%s: %v", addr, err)
			}
			continue // this machine may lack IPv6 loopback or 127.0.0.2
		}
		d.Close()
	}
}
