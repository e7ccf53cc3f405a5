package mockclerk_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/mockidp/internal/autopost"
	"github.com/ssokit/ssokit/mockidp/mockclerk"
)

// appCallback is an app's SSO callback as the default configuration
// allows it (loopback, any port), carrying the app's own state.
const appCallback = "http://127.0.0.1:8123/auth/sso/callback?state=s1"

// noFollow is client that returns redirects instead of following them.
func noFollow(c *http.Client) *http.Client {
	n := *c
	n.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &n
}

// handshakeURL is what @clerk/backend builds for a page load of redirect.
func handshakeURL(c *mockclerk.Clerk, redirect string, extra url.Values) string {
	q := url.Values{"redirect_url": {redirect}, "__clerk_api_version": {"2025-04-10"}, "suffixed_cookies": {"false"},
		"__clerk_hs_reason": {"dev-browser-sync"}, "format": {"nonce"}}
	for k, v := range extra {
		q[k] = v
	}
	return c.FrontendAPIURL() + "/v1/client/handshake?" + q.Encode()
}

// handshakeJWT verifies a handshake payload against the instance's JWKS
// (as @clerk/backend does: RS256, typ JWT, a published kid) and returns
// its directives.
func handshakeJWT(t *testing.T, client *http.Client, c *mockclerk.Clerk, tok string) []string {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("handshake payload: %v", err)
	}
	h := jws.Signatures[0].Protected
	if h.ExtraHeaders["typ"] != "JWT" || h.KeyID == "" {
		t.Fatalf("handshake header %+v", h)
	}
	resp, err := client.Get(c.FrontendAPIURL() + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	jsonDecode(resp, &set)
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %s not in the JWKS", h.KeyID)
	}
	raw, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("handshake signature: %v", err)
	}
	var body map[string][]string
	if err := json.Unmarshal(raw, &body); err != nil || len(body) != 1 || body["handshake"] == nil {
		t.Fatalf("handshake body %s", raw)
	}
	return body["handshake"]
}

// directive finds the Set-Cookie string of name among the directives.
func directive(dirs []string, name string) (string, bool) {
	for _, d := range dirs {
		if strings.HasPrefix(d, name+"=") {
			return d, true
		}
	}
	return "", false
}

func cookieValue(setCookie string) string {
	v, _, _ := strings.Cut(setCookie, ";")
	_, v, _ = strings.Cut(v, "=")
	return v
}

// names are the cookie names of the directives, in order.
func names(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		n, _, _ := strings.Cut(d, "=")
		out = append(out, n)
	}
	return out
}

// claimsOf decodes a JWT's claims without verifying it.
func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// signInDev signs alice in on a new dev browser and returns it.
func signInDev(t *testing.T, srv *mockidp.Server, c *mockclerk.Clerk, redirect string) string {
	t.Helper()
	browser := jarClient(srv)
	resp, err := browser.Post(c.FrontendAPIURL()+"/v1/dev_browser", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var db struct{ Object, ID string }
	jsonDecode(resp, &db)
	if resp.StatusCode != 200 || db.Object != "dev_browser" || !strings.HasPrefix(db.ID, "dvb_") {
		t.Fatalf("dev browser: %d %+v", resp.StatusCode, db)
	}
	resp = signInTo(t, browser, redirect, c.SignInURL()+"?"+url.Values{"redirect_url": {redirect}, "email": {"alice@acme.test"}, "__clerk_db_jwt": {db.ID}}.Encode())
	loc, _ := url.Parse(resp.Header.Get("Location"))
	want, _ := url.Parse(redirect)
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Host != want.Host || loc.Path != want.Path ||
		loc.Query().Get("__clerk_db_jwt") != db.ID || loc.Query().Get("state") != want.Query().Get("state") || loc.Query().Has("session_token") {
		t.Fatalf("development sign-in came back %d to %v", resp.StatusCode, loc)
	}
	return db.ID
}

// signInTo runs a sign-in from start as a browser (following redirects,
// posting SAML auto-submit forms) and returns the response that sends the
// browser to the app, its body closed.
func signInTo(t *testing.T, c *http.Client, app, start string) *http.Response {
	t.Helper()
	n := *c
	u, _ := url.Parse(app)
	n.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host == u.Host || len(via) > 20 {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := n.Get(start)
	for range 4 {
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		action, form, ok := autopost.Form(resp.Request.URL, body)
		if !ok {
			return resp
		}
		resp, err = n.PostForm(action, form)
	}
	t.Fatal("sign-in did not come back")
	return nil
}

func TestHandshakeDevelopment(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	c := srv.Clerk("clerk")
	if c.Instance() != mockclerk.Development || !strings.HasPrefix(c.PublishableKey(), "pk_test_") || !strings.HasPrefix(c.SecretKey(), "sk_test_") {
		t.Fatalf("development keys %s %s", c.PublishableKey(), c.SecretKey())
	}
	db := signInDev(t, srv, c, appCallback)
	hc := noFollow(srv.Client())

	handshake := func(t *testing.T, extra url.Values) (*http.Response, *url.URL) {
		t.Helper()
		resp, err := hc.Get(handshakeURL(c, appCallback, extra))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusTemporaryRedirect || err != nil || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("handshake %d %v cache %q", resp.StatusCode, err, resp.Header.Get("Cache-Control"))
		}
		if loc.Scheme+"://"+loc.Host+loc.Path != "http://127.0.0.1:8123/auth/sso/callback" || loc.Query().Get("state") != "s1" {
			t.Fatalf("handshake went to %s", loc)
		}
		if len(resp.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("development handshake set cookies %v", resp.Header.Values("Set-Cookie"))
		}
		return resp, loc
	}

	t.Run("signed in", func(t *testing.T) {
		_, loc := handshake(t, url.Values{"__clerk_db_jwt": {db}, "suffixed_cookies": {"true"}, "format": {""}})
		dirs := handshakeJWT(t, srv.Client(), c, loc.Query().Get("__clerk_handshake"))
		sfx := c.CookieSuffix()
		want := []string{"__client_uat", "__client_uat_" + sfx, "__session", "__session_" + sfx, "__clerk_db_jwt", "__clerk_db_jwt_" + sfx}
		if !slices.Equal(names(dirs), want) {
			t.Fatalf("directives %v, want %v", names(dirs), want)
		}
		uatDir, _ := directive(dirs, "__client_uat")
		uat, err := strconv.ParseInt(cookieValue(uatDir), 10, 64)
		if err != nil || uat <= 0 || uatDir != "__client_uat="+cookieValue(uatDir)+"; Path=/; Max-Age=315360000; SameSite=Lax" {
			t.Fatalf("uat directive %q", uatDir)
		}
		sess, _ := directive(dirs, "__session")
		tok := cookieValue(sess)
		if sess != "__session="+tok+"; Path=/; SameSite=Lax" {
			t.Fatalf("session directive %q", sess)
		}
		if d, _ := directive(dirs, "__clerk_db_jwt"); d != "__clerk_db_jwt="+db+"; Path=/; SameSite=Lax" {
			t.Fatalf("dev browser directive %q", d)
		}
		if d, _ := directive(dirs, "__session_"+sfx); cookieValue(d) != tok {
			t.Fatalf("suffixed session %q", d)
		}
		// The session token: ssokit's verifier (issuer from the publishable
		// key, azp the app's origin) accepts it; its times are Clerk's.
		p, err := clerkVerifier(t, srv, c, "http://127.0.0.1:8123").Verify(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		cl := claimsOf(t, tok)
		iat := int64(cl["iat"].(float64))
		if p.UserID == "" || p.SessionID == "" || p.Org.ID != "org_acme" || cl["iss"] != c.FrontendAPIURL() || cl["azp"] != "http://127.0.0.1:8123" ||
			iat < uat || int64(cl["nbf"].(float64)) != iat-10 || int64(cl["exp"].(float64)) != iat+60 || cl["v"] != float64(2) {
			t.Fatalf("session token %v", cl)
		}
		// Without suffixed_cookies, plain names only.
		_, loc = handshake(t, url.Values{"__clerk_db_jwt": {db}})
		if got := names(handshakeJWT(t, srv.Client(), c, loc.Query().Get("__clerk_handshake"))); !slices.Equal(got, []string{"__client_uat", "__session", "__clerk_db_jwt"}) {
			t.Fatalf("unsuffixed directives %v", got)
		}
	})

	t.Run("planted parameters are replaced", func(t *testing.T) {
		planted := appCallback + "&__clerk_handshake=planted&__clerk_handshake_nonce=planted&__clerk_db_jwt=planted"
		resp, err := hc.Get(handshakeURL(c, planted, url.Values{"__clerk_db_jwt": {db}}))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		q := loc.Query()
		if resp.StatusCode != 307 || len(q["__clerk_handshake"]) != 1 || q.Get("__clerk_handshake") == "planted" ||
			q.Has("__clerk_handshake_nonce") || q.Has("__clerk_db_jwt") || q.Get("state") != "s1" {
			t.Fatalf("handshake to %s", loc)
		}
	})

	t.Run("signed out", func(t *testing.T) {
		signedOut := []string{"__client_uat=0; Path=/; Max-Age=315360000; SameSite=Lax", "__session=; Path=/; Max-Age=0; SameSite=Lax"}
		for name, extra := range map[string]url.Values{
			"no dev browser":      {},
			"unknown dev browser": {"__clerk_db_jwt": {"dvb_" + strings.Repeat("A", 43)}},
			"oversized":           {"__clerk_db_jwt": {db + strings.Repeat("A", 300)}},
		} {
			_, loc := handshake(t, extra)
			if got := handshakeJWT(t, srv.Client(), c, loc.Query().Get("__clerk_handshake")); !slices.Equal(got, signedOut) {
				t.Errorf("%s: directives %v", name, got)
			}
		}
		// A __client cookie means nothing to a development instance.
		req, _ := http.NewRequest("GET", handshakeURL(c, appCallback, nil), nil)
		req.AddCookie(&http.Cookie{Name: "__client", Value: db})
		resp, _ := hc.Do(req)
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if got := handshakeJWT(t, srv.Client(), c, loc.Query().Get("__clerk_handshake")); !slices.Equal(got, signedOut) {
			t.Errorf("__client cookie in development: %v", got)
		}
		// Revoked at the Backend API: the client is known, its session is
		// not active, so signed out (the dev browser stays).
		sid := sessionOf(t, srv, c, "alice@acme.test")
		req, _ = http.NewRequest("POST", c.BackendAPIURL()+"/sessions/"+sid+"/revoke", nil)
		req.Header.Set("Authorization", "Bearer "+c.SecretKey())
		if resp, err := srv.Client().Do(req); err != nil || resp.StatusCode != 200 {
			t.Fatalf("revoke: %v", err)
		}
		_, loc = handshake(t, url.Values{"__clerk_db_jwt": {db}})
		want := append(slices.Clone(signedOut), "__clerk_db_jwt="+db+"; Path=/; SameSite=Lax")
		if got := handshakeJWT(t, srv.Client(), c, loc.Query().Get("__clerk_handshake")); !slices.Equal(got, want) {
			t.Errorf("after revoke: %v, want %v", got, want)
		}
	})
}

// sessionOf is the ID of the user's one session, from the Backend API.
func sessionOf(t *testing.T, srv *mockidp.Server, c *mockclerk.Clerk, email string) string {
	t.Helper()
	uid, ok := c.UserID(email)
	if !ok {
		t.Fatalf("no user %s", email)
	}
	req, _ := http.NewRequest("GET", c.BackendAPIURL()+"/sessions?paginated=true&status=active&user_id="+uid, nil)
	req.Header.Set("Authorization", "Bearer "+c.SecretKey())
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var l struct{ Data []struct{ ID string } }
	jsonDecode(resp, &l)
	if len(l.Data) != 1 {
		t.Fatalf("sessions of %s: %+v", email, l)
	}
	return l.Data[0].ID
}

// mappedClient reaches srv for every host name (as a hosts file would),
// with a cookie jar.
func mappedClient(srv *mockidp.Server) *http.Client {
	addr := strings.TrimPrefix(strings.TrimPrefix(srv.URL, "http://"), "https://")
	c := srv.Client()
	base, _ := c.Transport.(*http.Transport)
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	tr := base.Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	c.Transport = tr
	c.Jar, _ = cookiejar.New(nil)
	return c
}

// setCookie finds the Set-Cookie header of name.
func setCookie(resp *http.Response, name string) string {
	for _, v := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, name+"=") {
			return v
		}
	}
	return ""
}

func TestHandshakeProduction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, frontendHost, domain string
		tls                        bool
	}{
		// Over https on 127.0.0.1: Secure everywhere, host-only (an IP).
		{"https on an IP", "", "", true},
		// On a Frontend host of three labels: __client_uat and the
		// handshake cookie on its last two; http, so not Secure.
		{"frontend host", "clerk.example.test", "example.test", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := mockidp.DefaultConfig()
			cfg.Clerk[0].Instance, cfg.Clerk[0].FrontendHost = mockclerk.Production, tc.frontendHost
			cfg.Clerk[0].AllowedRedirectURLs = []string{"https://app.example.test/auth/sso/callback"}
			var srv *mockidp.Server
			if tc.tls {
				srv = mockidp.StartTLS(t, cfg)
			} else {
				srv = mockidp.Start(t, cfg)
			}
			c := srv.Clerk("clerk")
			if !strings.HasPrefix(c.PublishableKey(), "pk_live_") || !strings.HasPrefix(c.SecretKey(), "sk_live_") {
				t.Fatalf("production keys %s %s", c.PublishableKey(), c.SecretKey())
			}
			secure := ""
			if tc.tls {
				secure = "; Secure"
			}
			domain := ""
			if tc.domain != "" {
				domain = "; Domain=" + tc.domain
				port := srv.URL[strings.LastIndex(srv.URL, ":"):]
				if c.FrontendAPIURL() != "http://"+tc.frontendHost+port {
					t.Fatalf("frontend API %s", c.FrontendAPIURL())
				}
			}
			browser := mappedClient(srv)
			const app = "https://app.example.test/auth/sso/callback?state=s1"
			resp := signInTo(t, browser, app, c.SignInURL()+"?"+url.Values{"redirect_url": {app}, "email": {"alice@acme.test"}}.Encode())
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != app {
				t.Fatalf("production sign-in came back %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			client := setCookie(resp, "__client")
			uat := cookieValue(setCookie(resp, "__client_uat"))
			// __client is the FAPI's own: under /clerk when the FAPI
			// shares the server's host.
			clientPath := "/"
			if tc.frontendHost == "" {
				clientPath = "/clerk"
			}
			if client != "__client="+cookieValue(client)+"; Path="+clientPath+"; Max-Age=315360000; HttpOnly; SameSite=Lax"+secure || len(cookieValue(client)) < 40 {
				t.Fatalf("__client cookie %q", client)
			}
			if n, err := strconv.ParseInt(uat, 10, 64); err != nil || n <= 0 ||
				setCookie(resp, "__client_uat") != "__client_uat="+uat+"; Path=/"+domain+"; Max-Age=315360000; SameSite=Lax"+secure {
				t.Fatalf("__client_uat cookie %q", setCookie(resp, "__client_uat"))
			}
			// No dev browsers in production.
			r, _ := browser.Post(c.FrontendAPIURL()+"/v1/dev_browser", "application/json", nil)
			var e struct{ Errors []struct{ Code string } }
			jsonDecode(r, &e)
			if r.StatusCode != 400 || len(e.Errors) != 1 || e.Errors[0].Code != "dev_browser_unsupported" {
				t.Fatalf("dev browser in production: %d %+v", r.StatusCode, e)
			}

			hs := func(t *testing.T, clientCookie string, redirect string) (*http.Response, []string) {
				t.Helper()
				req, _ := http.NewRequest("GET", handshakeURL(c, redirect, url.Values{"__clerk_hs_reason": {"client-uat-but-no-session-token"}}), nil)
				if clientCookie != "" {
					req.AddCookie(&http.Cookie{Name: "__client", Value: clientCookie})
				}
				nb := noFollow(browser)
				nb.Jar = nil
				resp, err := nb.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				set := setCookie(resp, "__clerk_handshake")
				tok := cookieValue(set)
				if resp.StatusCode != 307 || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Location") != app ||
					set != "__clerk_handshake="+tok+"; Path=/"+domain+"; SameSite=Lax"+secure {
					t.Fatalf("handshake %d to %q cache %q cookie %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Cache-Control"), set)
				}
				return resp, handshakeJWT(t, browser, c, tok)
			}
			deletes := []string{"__clerk_handshake=; Path=/" + domain + "; Max-Age=0; SameSite=Lax" + secure,
				"__clerk_handshake_nonce=; Path=/" + domain + "; Max-Age=0; SameSite=Lax" + secure}

			_, dirs := hs(t, cookieValue(client), app)
			tok := cookieValue(dirs[3])
			want := append(slices.Clone(deletes), "__client_uat="+uat+"; Path=/"+domain+"; Max-Age=315360000; SameSite=Lax"+secure,
				"__session="+tok+"; Path=/; SameSite=Lax"+secure)
			if !slices.Equal(dirs, want) {
				t.Fatalf("directives\n%q\nwant\n%q", dirs, want)
			}
			if cl := claimsOf(t, tok); cl["iss"] != c.FrontendAPIURL() || cl["azp"] != "https://app.example.test" {
				t.Fatalf("session token %v", cl)
			}
			// The planted handshake parameters of a redirect_url go.
			planted, _ := noFollow(browser).Get(handshakeURL(c, app+"&__clerk_handshake=planted&__clerk_handshake_nonce=x", nil))
			if planted.Header.Get("Location") != app {
				t.Fatalf("planted parameters kept: %q", planted.Header.Get("Location"))
			}
			signedOut := append(slices.Clone(deletes), "__client_uat=0; Path=/"+domain+"; Max-Age=315360000; SameSite=Lax"+secure,
				"__session=; Path=/; Max-Age=0; SameSite=Lax"+secure)
			for name, ck := range map[string]string{"no __client": "", "unknown __client": strings.Repeat("x", 43)} {
				if _, got := hs(t, ck, app); !slices.Equal(got, signedOut) {
					t.Errorf("%s: %q", name, got)
				}
			}
			if err := c.RevokeSession(sessionOf(t, srv, c, "alice@acme.test")); err != nil {
				t.Fatal(err)
			}
			if _, got := hs(t, cookieValue(client), app); !slices.Equal(got, signedOut) {
				t.Errorf("after revoke: %q", got)
			}
		})
	}
}

func TestHandshakeNonce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	cfg := mockidp.DefaultConfig()
	cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	cfg.Clerk[0].HandshakeNonce = true
	srv := mockidp.Start(t, cfg)
	c := srv.Clerk("clerk")
	db := signInDev(t, srv, c, appCallback)
	hc := noFollow(srv.Client())

	nonce := func(t *testing.T, extra url.Values) string {
		t.Helper()
		extra.Set("__clerk_db_jwt", db)
		resp, err := hc.Get(handshakeURL(c, appCallback, extra))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != 307 || loc.Query().Has("__clerk_handshake") {
			t.Fatalf("nonce handshake %d to %s", resp.StatusCode, loc)
		}
		return loc.Query().Get("__clerk_handshake_nonce")
	}
	redeem := func(n, key string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", c.BackendAPIURL()+"/clients/handshake_payload?"+url.Values{"nonce": {n}}.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		jsonDecode(resp, &m)
		return resp.StatusCode, m
	}
	code := func(m map[string]any) string {
		errs, _ := m["errors"].([]any)
		if len(errs) != 1 {
			return ""
		}
		s, _ := errs[0].(map[string]any)["code"].(string)
		return s
	}

	n := nonce(t, url.Values{})
	if len(n) < 40 {
		t.Fatalf("nonce %q", n)
	}
	if status, m := redeem(n, "sk_test_wrong"); status != 401 || code(m) != "authentication_invalid" {
		t.Fatalf("wrong secret key: %d %v", status, m)
	}
	status, m := redeem(n, c.SecretKey())
	dirs, _ := m["directives"].([]any)
	if status != 200 || len(dirs) != 3 || !strings.HasPrefix(dirs[1].(string), "__session=ey") {
		t.Fatalf("redeem: %d %v", status, m)
	}
	for name, n := range map[string]string{"used": n, "unknown": strings.Repeat("A", 43)} {
		if status, m := redeem(n, c.SecretKey()); status != 404 || code(m) != "resource_not_found" {
			t.Errorf("%s nonce: %d %v", name, status, m)
		}
	}
	if status, m := redeem("", c.SecretKey()); status != 400 || code(m) != "form_param_missing" {
		t.Errorf("no nonce: %d %v", status, m)
	}
	// Expired after a minute.
	n = nonce(t, url.Values{})
	advance(61 * time.Second)
	if status, m := redeem(n, c.SecretKey()); status != 404 || code(m) != "resource_not_found" {
		t.Errorf("expired nonce: %d %v", status, m)
	}
	// Without format=nonce the payload comes inline, even so.
	resp, _ := hc.Get(handshakeURL(c, appCallback, url.Values{"format": {""}, "__clerk_db_jwt": {db}}))
	resp.Body.Close()
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc.Query().Get("__clerk_handshake") == "" || loc.Query().Has("__clerk_handshake_nonce") {
		t.Fatalf("without format=nonce: %s", loc)
	}
}

// A payload over 2048 bytes goes by nonce when the SDK accepts one, without
// HandshakeNonce (the suffixed cookies' copies double it); a smaller one
// inline.
func TestHandshakeLargePayloadGoesByNonce(t *testing.T) {
	t.Parallel()
	cfg := mockidp.DefaultConfig()
	srv := mockidp.Start(t, cfg)
	c := srv.Clerk("clerk")
	db := signInDev(t, srv, c, appCallback)
	hc := noFollow(srv.Client())
	for suffixed, wantNonce := range map[string]bool{"false": false, "true": true} {
		resp, _ := hc.Get(handshakeURL(c, appCallback, url.Values{"__clerk_db_jwt": {db}, "suffixed_cookies": {suffixed}}))
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if got := loc.Query().Has("__clerk_handshake_nonce"); got != wantNonce || loc.Query().Has("__clerk_handshake") == wantNonce {
			t.Errorf("suffixed %s: nonce %v, want %v (%d bytes inline)", suffixed, got, wantNonce, len(loc.Query().Get("__clerk_handshake")))
		}
	}
}

// Every kind of hostile redirect_url is refused, by the hosted sign-in and
// by the handshake alike, with the page's stable code; the app's callback
// with a query, and a loopback one on any port, are allowed.
func TestRedirectURLAllowList(t *testing.T) {
	t.Parallel()
	cfg := mockidp.DefaultConfig()
	cfg.Clerk[0].AllowedRedirectURLs = []string{"https://app.test/auth/sso/callback", "http://127.0.0.1/auth/sso/callback"}
	srv := mockidp.Start(t, cfg)
	c := srv.Clerk("clerk")
	hc := noFollow(srv.Client())
	for _, tc := range []struct {
		kind, url string
		ok        bool
	}{
		{"exact", "https://app.test/auth/sso/callback", true},
		{"with a query", "https://app.test/auth/sso/callback?state=abc&x=%2F", true},
		{"loopback any port", "http://127.0.0.1:51234/auth/sso/callback?state=abc", true},
		{"loopback without a port", "http://127.0.0.1/auth/sso/callback", true},
		{"empty", "", false},
		{"relative", "/auth/sso/callback", false},
		{"scheme-relative", "//app.test/auth/sso/callback", false},
		{"fragment", "https://app.test/auth/sso/callback#x", false},
		{"empty fragment", "https://app.test/auth/sso/callback#", false},
		{"userinfo", "https://app.test@evil.test/auth/sso/callback", false},
		{"userinfo of the allowed host", "https://user@app.test/auth/sso/callback", false},
		{"backslash in authority", "https://evil.test\\@app.test/auth/sso/callback", false},
		{"backslash in path", "https://app.test/auth\\sso/callback", false},
		{"backslash in query", "https://app.test/auth/sso/callback?x=\\", false},
		{"other host", "https://evil.test/auth/sso/callback", false},
		{"host suffix", "https://app.test.evil.test/auth/sso/callback", false},
		{"host prefix", "https://evilapp.test/auth/sso/callback", false},
		{"host case", "https://APP.test/auth/sso/callback", false},
		{"trailing dot host", "https://app.test./auth/sso/callback", false},
		{"encoded host", "https://app%2etest/auth/sso/callback", false},
		{"explicit default port", "https://app.test:443/auth/sso/callback", false},
		{"other port", "https://app.test:8443/auth/sso/callback", false},
		{"empty port", "https://app.test:/auth/sso/callback", false},
		{"http for https", "http://app.test/auth/sso/callback", false},
		{"javascript", "javascript:alert(1)//app.test/auth/sso/callback", false},
		{"data", "data:text/html,<script>1</script>", false},
		{"opaque", "https:app.test/auth/sso/callback", false},
		{"path prefix", "https://app.test/auth/sso/callback/more", false},
		{"path extension", "https://app.test/auth/sso/callbackx", false},
		{"trailing slash", "https://app.test/auth/sso/callback/", false},
		{"dot segments", "https://app.test/auth/sso/../sso/callback", false},
		{"dot segment", "https://app.test/auth/./sso/callback", false},
		{"encoded slash", "https://app.test/auth%2Fsso/callback", false},
		{"encoded letter", "https://app.test/auth/sso/%63allback", false},
		{"double slash", "https://app.test//auth/sso/callback", false},
		{"path case", "https://app.test/auth/SSO/callback", false},
		{"space", "https://app.test/auth/sso/callback ", false},
		{"tab", "https://app.test/auth/sso/\tcallback", false},
		{"newline", "https://app.test/auth/sso/callback\n", false},
		{"NUL", "https://app.test/auth/sso/callback\x00", false},
		{"https loopback other port", "https://127.0.0.1:51234/auth/sso/callback", false},
		{"loopback other path", "http://127.0.0.1:51234/elsewhere", false},
		{"localhost for 127.0.0.1", "http://localhost:51234/auth/sso/callback", false},
		{"IPv6 loopback for 127.0.0.1", "http://[::1]:51234/auth/sso/callback", false},
		{"other loopback address", "http://127.0.0.2:51234/auth/sso/callback", false},
		{"decimal IP", "http://2130706433:51234/auth/sso/callback", false},
		{"port out of range", "http://127.0.0.1:99999/auth/sso/callback", false},
		{"port with a leading zero", "http://127.0.0.1:0080/auth/sso/callback", false},
		{"overlong", "https://app.test/auth/sso/callback?x=" + strings.Repeat("a", 5000), false},
	} {
		for _, endpoint := range []string{"sign-in", "handshake"} {
			var target string
			if endpoint == "sign-in" {
				target = c.SignInURL() + "?" + url.Values{"redirect_url": {tc.url}}.Encode()
			} else {
				target = handshakeURL(c, tc.url, nil)
			}
			resp, err := hc.Get(target)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			refused := resp.StatusCode == 400 && strings.Contains(string(body), "<code>redirect_url_not_allowed</code>")
			if refused == tc.ok || !tc.ok && resp.Header.Get("Location") != "" {
				t.Errorf("%s at %s (%q): status %d, refused %v", tc.kind, endpoint, tc.url, resp.StatusCode, refused)
			}
		}
	}
}

// The FAPI and the BAPI never overlap: no endpoint of either answers under
// the other's prefix (or, for the BAPI, at the root of the Frontend host),
// and each answers under its own.
func TestFrontendAndBackendAPIsApart(t *testing.T) {
	t.Parallel()
	cfg := mockidp.DefaultConfig()
	cfg.Clerk[0].FrontendHost = "clerk.example.test"
	srv := mockidp.Start(t, cfg)
	c := srv.Clerk("clerk")
	browser := noFollow(mappedClient(srv))
	fapi, bapi := c.RouteTables()
	if len(fapi) < 7 || len(bapi) < 20 {
		t.Fatalf("routes %v %v", fapi, bapi)
	}
	fapiBases := []string{srv.URL + "/clerk", c.FrontendAPIURL()}
	bapiBase := c.BackendAPIURL()
	if !strings.HasSuffix(bapiBase, "/clerk/bapi/v1") || c.FrontendAPIURL() == srv.URL+"/clerk" {
		t.Fatalf("bases %s %s", bapiBase, c.FrontendAPIURL())
	}
	muxNotFound := func(method, u string) (bool, int) {
		req, _ := http.NewRequest(method, u, nil)
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 404 && string(body) == "404 page not found\n", resp.StatusCode
	}
	fill := func(p string) string { // a real connection, so a handler's own 404 is not the mux's
		for strings.Contains(p, "{") {
			i, j := strings.Index(p, "{"), strings.Index(p, "}")
			p = p[:i] + "samlc_acme_okta" + p[j+1:]
		}
		return p
	}
	for _, r := range fapi {
		method, path, _ := strings.Cut(r, " ")
		for _, base := range fapiBases {
			if nf, status := muxNotFound(method, base+fill(path)); nf {
				t.Errorf("FAPI %s %s: no route (%d)", method, base+path, status)
			}
		}
		if nf, status := muxNotFound(method, bapiBase+fill(path)); !nf {
			t.Errorf("FAPI %s %s also answers under the BAPI: %d", method, path, status)
		}
	}
	for _, r := range bapi {
		method, path, _ := strings.Cut(r, " ")
		if nf, status := muxNotFound(method, bapiBase+fill(path)); nf {
			t.Errorf("BAPI %s %s: no route (%d)", method, path, status)
		}
		for _, base := range append(fapiBases, srv.URL+"/clerk/v1", c.FrontendAPIURL()+"/v1") {
			if nf, status := muxNotFound(method, base+fill(path)); !nf {
				t.Errorf("BAPI %s %s also answers under %s: %d", method, path, base, status)
			}
		}
	}
}
