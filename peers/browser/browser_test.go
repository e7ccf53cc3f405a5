package browser_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/mockidp/demo"
)

// chromium finds the browser: $SSOKIT_CHROMIUM, then Debian's chromium.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SSOKIT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "Chromium", "apt-get update && apt-get install -y --no-install-recommends chromium, or set SSOKIT_CHROMIUM")
	return ""
}

// TestDemoInABrowser drives the demo as a person does, in a real Chromium:
// SSO through Okta SAML and Azure AD OIDC via the mock Clerk, require_sso
// switched on in the dashboard, and a refused domain.
func TestDemoInABrowser(t *testing.T) {
	path := chromium(t)
	var logger *slog.Logger
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	d, err := demo.Start(context.Background(), demo.Config{AppAddr: "127.0.0.1:0", MockAddr: "127.0.0.1:0", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1100, 900))
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	defer cancelBrowser()
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		if testenv.InCI() {
			t.Fatalf("Chromium at %s did not start: %v", path, err)
		}
		t.Skipf("skipping: Chromium at %s did not start (%v); install it (apt-get install -y --no-install-recommends chromium) or set SSOKIT_CHROMIUM", path, err)
	}
	shots := t.ArtifactDir()
	shot := func(t *testing.T, ctx context.Context, name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
			return
		}
		p := filepath.Join(shots, name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Error(err)
		}
		t.Logf("screenshot %s", p)
	}
	step := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(bctx, 45*time.Second)
		t.Cleanup(cancel)
		return ctx
	}
	text := func(t *testing.T, ctx context.Context, sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	// ssoSignIn types the email on the dashboard, follows the mock Clerk to
	// the vendor's login page and picks the user there.
	ssoSignIn := func(t *testing.T, ctx context.Context, email, name string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(d.AppURL+"/"), chromedp.WaitVisible(chromedp.CSS("#sso-email")),
			chromedp.SendKeys(chromedp.CSS("#sso-email"), email)); err != nil {
			t.Fatal(err)
		}
		shot(t, ctx, name+"-1-dashboard")
		user := chromedp.CSS(`button.user[value="` + email + `"]`)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#sso-button")), chromedp.WaitVisible(user)); err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			t.Fatalf("the IdP login page did not show %s (at %s): %v", email, loc, err)
		}
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if !strings.HasPrefix(loc, d.MockURL+"/") {
			t.Fatalf("login page at %s, want the mock IdP", loc)
		}
		shot(t, ctx, name+"-2-idp-login")
		if err := chromedp.Do(ctx, chromedp.Click(user)); err != nil {
			t.Fatal(err)
		}
	}
	whoami := func(t *testing.T, ctx context.Context, name string, want map[string]string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS("#email"))); err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("not back on the dashboard (at %s): %v\n%s", loc, err, body)
		}
		shot(t, ctx, name+"-3-signed-in")
		for sel, v := range want {
			if got := text(t, ctx, sel); got != v {
				t.Errorf("%s = %q, want %q", sel, got, v)
			}
		}
	}
	signOut := func(t *testing.T, ctx context.Context) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#sso-email"))); err != nil {
			t.Fatalf("sign out: %v", err)
		}
	}

	t.Run("okta-saml-admin", func(t *testing.T) {
		ctx := step(t)
		ssoSignIn(t, ctx, "alice@acme.test", "okta")
		whoami(t, ctx, "okta", map[string]string{"#email": "alice@acme.test", "#org": "acme", "#role": "admin",
			"#auth-method": "sso", "#idp-name": "okta"})
		if got := text(t, ctx, "#sso-provider"); got != "okta" {
			t.Errorf("SSO status provider %q", got)
		}
		signOut(t, ctx)
	})
	t.Run("azure-oidc-default-role", func(t *testing.T) {
		ctx := step(t)
		ssoSignIn(t, ctx, "carol@contoso.test", "azure")
		whoami(t, ctx, "azure", map[string]string{"#email": "carol@contoso.test", "#org": "contoso", "#role": "viewer",
			"#auth-method": "sso", "#idp-name": "azure_ad"})
		// A viewer sees no admin settings.
		if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#settings").length`)); err != nil || n != 0 {
			t.Errorf("viewer sees settings: %d %v", n, err)
		}
		signOut(t, ctx)
	})
	t.Run("require-sso", func(t *testing.T) {
		ctx := step(t)
		passwordLogin := func() error {
			return chromedp.Do(ctx, chromedp.Navigate(d.AppURL+"/"), chromedp.WaitVisible(chromedp.CSS("#pw-org")),
				chromedp.SendKeys(chromedp.CSS("#pw-org"), demo.PasswordOrg),
				chromedp.SendKeys(chromedp.CSS("#pw-email"), demo.PasswordEmail),
				chromedp.SendKeys(chromedp.CSS("#pw-password"), demo.Password),
				chromedp.Click(chromedp.CSS("#pw-button")))
		}
		// Before: the password works.
		if err := passwordLogin(); err != nil {
			t.Fatal(err)
		}
		whoami(t, ctx, "password", map[string]string{"#email": demo.PasswordEmail, "#auth-method": "password"})
		signOut(t, ctx)
		// An admin signs in by SSO, creates an API key, turns require_sso on.
		ssoSignIn(t, ctx, "alice@acme.test", "admin")
		whoami(t, ctx, "admin", map[string]string{"#role": "admin"})
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#create-key")), chromedp.WaitVisible(chromedp.CSS("#new-key"))); err != nil {
			t.Fatal(err)
		}
		key := text(t, ctx, "#new-key")
		if !strings.HasPrefix(key, "ssk_live_") {
			t.Fatalf("new key %q", key)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#require-sso")), chromedp.Click(chromedp.CSS("#save-settings")),
			chromedp.WaitVisible(chromedp.CSS(`#notice[data-notice="Settings saved."]`))); err != nil {
			t.Fatal(err)
		}
		if on, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#require-sso").checked`)); err != nil || !on {
			t.Fatalf("require_sso not shown on: %v %v", on, err)
		}
		shot(t, ctx, "require-sso-1-saved")
		signOut(t, ctx)
		// After: the password is refused with a clear message.
		if err := passwordLogin(); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#error"))); err != nil {
			t.Fatalf("no refusal shown: %v", err)
		}
		shot(t, ctx, "require-sso-2-password-refused")
		if msg := text(t, ctx, "#error"); !strings.Contains(msg, "requires single sign-on") || !strings.Contains(msg, "sso_required") {
			t.Errorf("refusal message %q", msg)
		}
		// The API key made in the dashboard still calls the API.
		req, _ := http.NewRequest("GET", d.AppURL+"/v1/auth/whoami", nil)
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var me struct {
			OrgID      string `json:"org_id"`
			Role       string `json:"role"`
			AuthMethod string `json:"auth_method"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&me); err != nil || resp.StatusCode != 200 ||
			me.AuthMethod != "api_key" || me.OrgID != "acme" || me.Role != "editor" {
			t.Fatalf("API key under require_sso: %d %+v %v", resp.StatusCode, me, err)
		}
	})
	t.Run("domain-not-allowed", func(t *testing.T) {
		ctx := step(t)
		ssoSignIn(t, ctx, demo.OutsiderEmail, "outsider")
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#refusal"))); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("no refusal page: %v\n%s", err, body)
		}
		shot(t, ctx, "outsider-3-refused")
		if code := text(t, ctx, "#code"); code != "domain_not_allowed" {
			t.Errorf("code %q", code)
		}
		if msg := text(t, ctx, "#refusal"); !strings.Contains(msg, "domain") {
			t.Errorf("message %q", msg)
		}
		if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#email").length`)); err != nil || n != 0 {
			t.Errorf("refused person sees the dashboard: %d %v", n, err)
		}
	})
}
