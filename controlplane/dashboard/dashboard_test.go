package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/controlplane/dashboard"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/mockidp/demo"
	"github.com/ssokit/ssokit/store"
	"golang.org/x/crypto/bcrypt"
)

func start(t *testing.T) *demo.Demo {
	t.Helper()
	d, err := demo.Start(context.Background(), demo.Config{AppAddr: "127.0.0.1:0", MockAddr: "127.0.0.1:0", Headless: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: time.Minute} // a bound on a hang; password logins are bcrypt cost 12 under -race
}

func send(t *testing.T, c *http.Client, method, u string, form url.Values, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDashboardRefusals(t *testing.T) {
	t.Parallel()
	d := start(t)
	hash, _ := bcrypt.GenerateFromPassword([]byte("viewer-password"), bcrypt.MinCost)
	if _, _, err := d.API.Store().CreateUserIfAbsent(t.Context(), store.User{ID: "usr_vic", OrgID: "acme", Email: "vic@acme.test",
		Role: "viewer", PasswordHash: string(hash), Source: "password"}); err != nil {
		t.Fatal(err)
	}
	t.Run("wrong password", func(t *testing.T) {
		status, body := send(t, browser(), "POST", d.AppURL+"/dashboard/login",
			url.Values{"org": {"acme"}, "email": {demo.PasswordEmail}, "password": {"nope"}})
		if status != 401 || !strings.Contains(body, "invalid_credentials") || !strings.Contains(body, `id="pw-email" value="dave@acme.test"`) {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("viewer cannot change settings", func(t *testing.T) {
		c := browser()
		if status, _ := send(t, c, "POST", d.AppURL+"/dashboard/login",
			url.Values{"org": {"acme"}, "email": {"vic@acme.test"}, "password": {"viewer-password"}}); status != 200 {
			t.Fatalf("login %d", status)
		}
		status, body := send(t, c, "POST", d.AppURL+"/dashboard/settings", url.Values{"require_sso": {"on"}})
		if status != 403 || !strings.Contains(body, "Only organization admins") {
			t.Fatalf("%d %s", status, body)
		}
		if org, _ := d.API.Store().GetOrg(t.Context(), "acme"); org.RequireSSO {
			t.Fatal("a viewer turned require_sso on")
		}
		if status, _ := send(t, c, "POST", d.AppURL+"/dashboard/api-keys", url.Values{"name": {"x"}, "role": {"admin"}}); status != 403 {
			t.Fatalf("viewer made an API key: %d", status)
		}
	})
	t.Run("cross-site form post", func(t *testing.T) {
		c := browser()
		if status, _ := send(t, c, "POST", d.AppURL+"/dashboard/login",
			url.Values{"org": {"acme"}, "email": {demo.PasswordEmail}, "password": {demo.Password}}); status != 200 {
			t.Fatalf("login %d", status)
		}
		status, _ := send(t, c, "POST", d.AppURL+"/dashboard/settings", url.Values{"require_sso": {"on"}},
			"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.test")
		if status != 403 {
			t.Fatalf("cross-site POST: %d", status)
		}
		if org, _ := d.API.Store().GetOrg(t.Context(), "acme"); org.RequireSSO {
			t.Fatal("a cross-site form changed require_sso")
		}
		// The same admin, same-site, may.
		status, body := send(t, c, "POST", d.AppURL+"/dashboard/settings", url.Values{"require_sso": {"on"}}, "Sec-Fetch-Site", "same-origin")
		if status != 200 || !strings.Contains(body, "Settings saved.") {
			t.Fatalf("same-site POST: %d %s", status, body)
		}
	})
	t.Run("sso refusal page", func(t *testing.T) {
		c := browser()
		status, body := send(t, c, "GET", d.AppURL+"/auth/sso/callback?state=forged", nil)
		if status != 400 || !strings.Contains(body, `id="code">invalid_state<`) || !strings.Contains(body, "Start again") {
			t.Fatalf("%d %s", status, body)
		}
	})
}

func TestHeadlessSSOThroughDashboard(t *testing.T) {
	t.Parallel()
	d := start(t)
	// A browser's page loads (navigation headers): Clerk's handshake
	// brings the session back to the app only on one.
	resp, err := mockidp.Browse(browser(), d.AppURL+"/auth/sso/start?email=bob%40contoso.test&return_to=/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`id="email">bob@contoso.test<`, `id="role">editor<`, `id="idp-name">azure_ad<`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("dashboard lacks %s:\n%s", want, b)
		}
	}
}

// TestNewRequires: the dashboard refuses to start without the control
// plane it calls or the app's URL.
func TestNewRequires(t *testing.T) {
	t.Parallel()
	d := start(t)
	for _, tc := range []struct {
		name string
		cfg  dashboard.Config
		want string
	}{
		{"no API", dashboard.Config{AppURL: d.AppURL}, "API is required"},
		{"no AppURL", dashboard.Config{API: d.API}, "AppURL is required"},
		{"relative AppURL", dashboard.Config{API: d.API, AppURL: "/app"}, "AppURL"},
	} {
		if _, err := dashboard.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
	if _, err := dashboard.New(dashboard.Config{API: d.API, AppURL: d.AppURL}); err != nil {
		t.Fatal(err)
	}
}

// TestSSOEventsOnTheDashboard: "why was Pat refused?" An organization
// admin's dashboard lists the organization's recent sign-in attempts with
// the refusal's reason and the check that failed, values escaped.
func TestSSOEventsOnTheDashboard(t *testing.T) {
	t.Parallel()
	d := start(t)
	// Pat's domain is not one Acme admits: refused, kept in Acme's log.
	resp, err := mockidp.Browse(browser(), d.AppURL+"/auth/sso/start?email="+url.QueryEscape(demo.OutsiderEmail)+"&return_to=/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("Pat's sign-in: %d, want 403", resp.StatusCode)
	}
	// A value no identity provider should send, kept as it came.
	log := d.API.Store().(store.SSOLog)
	if err := log.AddSSOEvent(t.Context(), store.SSOEvent{OrgID: "acme", Email: `<script>alert(1)</script>@acme.test`, Outcome: "refused",
		Reason: "signature", Check: `<img src=x onerror=alert(1)>`, Unverified: true}, 10); err != nil {
		t.Fatal(err)
	}
	c := browser()
	if status, _ := send(t, c, "POST", d.AppURL+"/dashboard/login",
		url.Values{"org": {demo.PasswordOrg}, "email": {demo.PasswordEmail}, "password": {demo.Password}}); status != 200 {
		t.Fatalf("admin login %d", status)
	}
	_, body := send(t, c, "GET", d.AppURL+"/", nil)
	for _, want := range []string{`id="sso-events"`, "<td>" + demo.OutsiderEmail + "</td>", `<code class="reason">domain_not_allowed</code>`,
		"&lt;script&gt;alert(1)&lt;/script&gt;@acme.test", "&lt;img src=x onerror=alert(1)&gt; <em class=\"unverified\">"} {
		if !strings.Contains(body, want) {
			t.Errorf("the dashboard lacks %s", want)
		}
	}
	if strings.Contains(body, "<script>alert(1)") || strings.Contains(body, "<img src=x") {
		t.Error("an event's value reached the page unescaped")
	}
}
