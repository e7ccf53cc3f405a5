package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/client"
)

// seen is one request as the fake control plane received it.
type seen struct {
	Method, Path, Body                   string
	Auth, ContentType, Accept, UserAgent string
	Cookie                               string
}

// fake is a control plane that records each request and answers with the
// canned status and body of its route ("METHOD /escaped/path").
type fake struct {
	*httptest.Server
	mu      sync.Mutex
	last    seen
	answers map[string]answer
}

type answer struct {
	status int
	body   string
}

func newFake(t testing.TB) *fake {
	t.Helper()
	f := &fake{answers: map[string]answer{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.last = seen{Method: r.Method, Path: r.URL.EscapedPath(), Body: string(b), Auth: r.Header.Get("Authorization"),
			ContentType: r.Header.Get("Content-Type"), Accept: r.Header.Get("Accept"), UserAgent: r.Header.Get("User-Agent"),
			Cookie: r.Header.Get("Cookie")}
		a, ok := f.answers[r.Method+" "+r.URL.EscapedPath()]
		f.mu.Unlock()
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"not_found","message":"no such route in the fake"}`)
			return
		}
		if a.body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) answer(route string, status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[route] = answer{status, body}
}

func (f *fake) request() seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

func newClient(t testing.TB, cfg client.Config) *client.Client {
	t.Helper()
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func jsonEqual(t testing.TB, got, want string) bool {
	t.Helper()
	if want == "" || got == "" {
		return got == want
	}
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("request body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		cfg  client.Config
		ok   bool
	}{
		{"https", client.Config{BaseURL: "https://app.example.com"}, true},
		{"http with a path prefix", client.Config{BaseURL: "http://127.0.0.1:8080/ssokit/", APIKey: "ssk_live_x"}, true},
		{"token", client.Config{BaseURL: "https://app.example.com", Token: "tok"}, true},
		{"empty", client.Config{}, false},
		{"relative", client.Config{BaseURL: "/v1"}, false},
		{"no scheme", client.Config{BaseURL: "app.example.com"}, false},
		{"other scheme", client.Config{BaseURL: "ftp://app.example.com"}, false},
		{"no host", client.Config{BaseURL: "https://"}, false},
		{"query", client.Config{BaseURL: "https://app.example.com?x=1"}, false},
		{"fragment", client.Config{BaseURL: "https://app.example.com#x"}, false},
		{"API key and token", client.Config{BaseURL: "https://app.example.com", APIKey: "a", Token: "b"}, false},
		{"whitespace in the credential", client.Config{BaseURL: "https://app.example.com", Token: "a b"}, false},
		{"newline in the credential", client.Config{BaseURL: "https://app.example.com", APIKey: "a\r\nX-Evil: 1"}, false},
		{"negative bound", client.Config{BaseURL: "https://app.example.com", MaxResponseBytes: -1}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := client.New(tt.cfg)
			if tt.ok != (err == nil) || tt.ok != (c != nil) {
				t.Fatalf("New(%+v) = %v, %v; want ok=%v", tt.cfg, c, err, tt.ok)
			}
		})
	}
}

// TestMethods: every method's request (method, escaped path, JSON body,
// headers) and the decoding of its answer.
func TestMethods(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	created := time.Date(2026, 12, 1, 2, 3, 4, 567890000, time.UTC)
	expires := created.Add(24 * time.Hour)
	yes, plan := true, "enterprise"
	orgJSON := `{"id":"acme","name":"Acme","plan":"enterprise","allowed_domains":["acme.com"],"group_roles":[{"group":"admins","role":"admin"}],
		"auto_create_users":true,"require_sso":true,"disable_api_key_auth":false,"sso_configured":true,"connection":{"id":"acme","protocol":"oidc"},
		"created_at":"2026-12-01T02:03:04.56789Z","updated_at":"2026-12-01T02:03:04.56789Z","a_field_from_a_newer_server":1}`
	org := api.Org{ID: "acme", Name: "Acme", Plan: "enterprise", AllowedDomains: []string{"acme.com"}, GroupRoles: []api.GroupRule{{Group: "admins", Role: "admin"}},
		AutoCreateUsers: true, RequireSSO: true, SSOConfigured: true, Connection: json.RawMessage(`{"id":"acme","protocol":"oidc"}`), CreatedAt: created, UpdatedAt: created}
	userJSON := `{"id":"usr_1","org_id":"acme","email":"ada@acme.com","role":"editor","clerk_user_id":"user_2x","source":"sso","created_at":"2026-12-01T02:03:04.56789Z"}`
	user := api.User{ID: "usr_1", OrgID: "acme", Email: "ada@acme.com", Role: "editor", ClerkUserID: "user_2x", Source: "sso", CreatedAt: created}
	keyJSON := `{"id":"key_1","org_id":"acme","name":"ci","role":"editor","prefix":"ssk_live_AbC1","created_at":"2026-12-01T02:03:04.56789Z","expires_at":"2026-12-02T02:03:04.56789Z","revoked":false}`
	key := api.APIKey{ID: "key_1", OrgID: "acme", Name: "ci", Role: "editor", Prefix: "ssk_live_AbC1", CreatedAt: created, ExpiresAt: expires}
	meJSON := `{"user_id":"usr_1","clerk_user_id":"user_2x","email":"ada@acme.com","org_id":"acme","role":"editor","auth_method":"sso","idp_name":"okta"}`
	me := api.Whoami{UserID: "usr_1", ClerkUserID: "user_2x", Email: "ada@acme.com", OrgID: "acme", Role: "editor", AuthMethod: "sso", IdPName: "okta"}
	statusJSON := `{"sso_enabled":true,"provider":"okta","connection_state":"active","last_login":"2026-12-01T02:03:04.56789Z","total_sso_users":3}`
	reportJSON := `{"ok":true,"steps":[{"name":"metadata","ok":true,"detail":"fetched"}],"identity":{"subject":"00u1","email":"bob@acme.com","email_verified":true,"idp":"okta","protocol":"saml"}}`

	tests := []struct {
		name     string
		call     func(c *client.Client) (any, error)
		route    string // METHOD and escaped path the client must use
		reqBody  string // JSON the client must send; "" means no body
		status   int
		respBody string
		want     any
	}{
		{"create org", func(c *client.Client) (any, error) { return c.Organizations.Create(ctx, "acme", "Acme", "enterprise") },
			"POST /v1/organizations", `{"id":"acme","name":"Acme","plan":"enterprise"}`, 201, orgJSON, org},
		{"create org with the default plan", func(c *client.Client) (any, error) { return c.Organizations.Create(ctx, "acme", "Acme", "") },
			"POST /v1/organizations", `{"id":"acme","name":"Acme"}`, 201, orgJSON, org},
		{"update org", func(c *client.Client) (any, error) {
			return c.Organizations.Update(ctx, "acme", api.UpdateOrgRequest{RequireSSO: &yes, Plan: &plan})
		}, "PATCH /v1/organizations/acme", `{"require_sso":true,"plan":"enterprise"}`, 200, orgJSON, org},
		{"configure SSO", func(c *client.Client) (any, error) {
			return c.Organizations.ConfigureSSO(ctx, "acme", api.SSOSettings{ClerkOrgID: "org_2x", AllowedDomains: []string{"acme.com"},
				GroupRoles: []api.GroupRule{{Group: "admins", Role: "admin"}}, Connection: json.RawMessage(`{"id":"acme"}`)})
		}, "PUT /v1/organizations/acme/sso",
			`{"clerk_org_id":"org_2x","allowed_domains":["acme.com"],"auto_create_users":false,"require_sso":false,"group_roles":[{"group":"admins","role":"admin"}],"connection":{"id":"acme"}}`,
			200, orgJSON, org},
		{"SSO status", func(c *client.Client) (any, error) { return c.Organizations.SSOStatus(ctx, "acme") },
			"GET /v1/organizations/acme/sso/status", "", 200, statusJSON,
			api.SSOStatus{SSOEnabled: true, Provider: "okta", ConnectionState: api.ConnectionActive, LastLogin: &created, TotalSSOUsers: 3}},
		{"SSO events", func(c *client.Client) (any, error) { return c.Organizations.SSOEvents(ctx, "acme", 20) },
			"GET /v1/organizations/acme/sso/events", "", 200,
			`{"events":[{"id":"ev_1","time":"2026-12-01T02:03:04.56789Z","email":"pat@acme.com","idp_name":"okta","protocol":"saml","outcome":"refused","reason":"domain_not_allowed","check":"the email domain is not allowed"}]}`,
			[]api.SSOEvent{{ID: "ev_1", Time: created, Email: "pat@acme.com", IdPName: "okta", Protocol: "saml", Outcome: "refused",
				Reason: "domain_not_allowed", Check: "the email domain is not allowed"}}},
		{"test SSO", func(c *client.Client) (any, error) {
			return c.Organizations.TestSSO(ctx, "acme")
		}, "POST /v1/organizations/acme/sso/test", `{}`, 200, reportJSON,
			api.SSOTestReport{OK: true, Steps: []api.SSOTestStep{{Name: "metadata", OK: true, Detail: "fetched"}},
				Identity: &api.Identity{Subject: "00u1", Email: "bob@acme.com", EmailVerified: true, IdP: "okta", Protocol: "saml"}}},
		{"users", func(c *client.Client) (any, error) { return c.Organizations.Users(ctx, "acme") },
			"GET /v1/organizations/acme/users", "", 200, "[" + userJSON + "]", []api.User{user}},
		{"set role", func(c *client.Client) (any, error) { return c.Organizations.SetRole(ctx, "acme", "usr_1", "editor") },
			"PATCH /v1/organizations/acme/users/usr_1", `{"role":"editor"}`, 200, userJSON, user},
		{"remove user", func(c *client.Client) (any, error) { return nil, c.Organizations.RemoveUser(ctx, "acme", "usr_1") },
			"DELETE /v1/organizations/acme/users/usr_1", "", 204, "", nil},
		{"path segments are escaped", func(c *client.Client) (any, error) { return nil, c.Organizations.RemoveUser(ctx, "a/b c", "../x?y") },
			"DELETE /v1/organizations/a%2Fb%20c/users/..%2Fx%3Fy", "", 204, "", nil},
		{"whoami", func(c *client.Client) (any, error) { return c.Auth.WhoAmI(ctx) },
			"GET /v1/auth/whoami", "", 200, meJSON, me},
		{"login", func(c *client.Client) (any, error) { return c.Auth.Login(ctx, "acme", "ada@acme.com", "hunter2") },
			"POST /v1/auth/login", `{"org":"acme","email":"ada@acme.com","password":"hunter2"}`, 200, meJSON, me},
		{"logout", func(c *client.Client) (any, error) { return nil, c.Auth.Logout(ctx) },
			"POST /v1/auth/logout", "", 204, "", nil},
		{"create key", func(c *client.Client) (any, error) { return c.APIKeys.Create(ctx, "acme", "ci", "editor", expires) },
			"POST /v1/organizations/acme/api-keys", `{"name":"ci","role":"editor","expires_at":"2026-12-02T02:03:04.56789Z"}`, 201,
			strings.TrimSuffix(keyJSON, "}") + `,"key":"ssk_live_AbC1secret"}`, api.NewAPIKey{APIKey: key, Key: "ssk_live_AbC1secret"}},
		{"create key without expiry", func(c *client.Client) (any, error) { return c.APIKeys.Create(ctx, "acme", "ci", "editor", time.Time{}) },
			"POST /v1/organizations/acme/api-keys", `{"name":"ci","role":"editor"}`, 201,
			strings.TrimSuffix(keyJSON, "}") + `,"key":"ssk_live_AbC1secret"}`, api.NewAPIKey{APIKey: key, Key: "ssk_live_AbC1secret"}},
		{"list keys", func(c *client.Client) (any, error) { return c.APIKeys.List(ctx, "acme") },
			"GET /v1/organizations/acme/api-keys", "", 200, "[" + keyJSON + "]", []api.APIKey{key}},
		{"revoke key", func(c *client.Client) (any, error) { return nil, c.APIKeys.Revoke(ctx, "acme", "key_1") },
			"DELETE /v1/organizations/acme/api-keys/key_1", "", 204, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.answer(tt.route, tt.status, tt.respBody)
			c := newClient(t, client.Config{BaseURL: f.URL, APIKey: "ssk_live_key", UserAgent: "ssokit-test"})
			got, err := tt.call(c)
			if err != nil {
				t.Fatalf("call: %v (request %+v)", err, f.request())
			}
			req := f.request()
			if req.Method+" "+req.Path != tt.route {
				t.Errorf("request %s %s, want %s", req.Method, req.Path, tt.route)
			}
			if !jsonEqual(t, req.Body, tt.reqBody) {
				t.Errorf("request body %s, want %s", req.Body, tt.reqBody)
			}
			wantType := ""
			if tt.reqBody != "" {
				wantType = "application/json"
			}
			if req.ContentType != wantType || req.Accept != "application/json" || req.Auth != "Bearer ssk_live_key" || req.UserAgent != "ssokit-test" {
				t.Errorf("headers %+v", req)
			}
			if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("answer\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestBaseURLPrefixAndAuth: a path prefix in BaseURL is kept; Token is sent
// as a Bearer credential; with no credential no Authorization header goes
// and the default User-Agent is sent.
func TestBaseURLPrefixAndAuth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFake(t)
	f.answer("GET /prefix/v1/auth/whoami", 200, `{"user_id":"u"}`)
	if _, err := newClient(t, client.Config{BaseURL: f.URL + "/prefix/", Token: "admin-key"}).Auth.WhoAmI(ctx); err != nil {
		t.Fatal(err)
	}
	if req := f.request(); req.Path != "/prefix/v1/auth/whoami" || req.Auth != "Bearer admin-key" {
		t.Fatalf("request %+v", req)
	}
	if _, err := newClient(t, client.Config{BaseURL: f.URL + "/prefix"}).Auth.WhoAmI(ctx); err != nil {
		t.Fatal(err)
	}
	if req := f.request(); req.Auth != "" || req.UserAgent != "ssokit-client" {
		t.Fatalf("anonymous request %+v", req)
	}
}

func TestTestSignInURL(t *testing.T) {
	t.Parallel()
	c := newClient(t, client.Config{BaseURL: "https://app.example.com/base/"})
	for _, tt := range []struct{ org, hint, want string }{
		{"acme", "", "https://app.example.com/base/v1/organizations/acme/sso/test/start"},
		{"a/b", "ada+test@acme.com", "https://app.example.com/base/v1/organizations/a%2Fb/sso/test/start?login_hint=ada%2Btest%40acme.com"},
	} {
		if got := c.Organizations.TestSignInURL(tt.org, tt.hint); got != tt.want {
			t.Errorf("TestSignInURL(%q, %q) = %q, want %q", tt.org, tt.hint, got, tt.want)
		}
	}
}

// TestSessionCookie: with a cookie jar, the session Login receives goes
// with the next calls.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/auth/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "ssokit_session", Value: "s1", Path: "/", HttpOnly: true})
		io.WriteString(w, `{"user_id":"usr_1","auth_method":"password"}`)
	})
	mux.HandleFunc("GET /v1/auth/whoami", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("ssokit_session"); err != nil || c.Value != "s1" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"no_credentials","message":"no session"}`)
			return
		}
		io.WriteString(w, `{"user_id":"usr_1","auth_method":"password"}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := newClient(t, client.Config{BaseURL: srv.URL, HTTPClient: &http.Client{Jar: jar}})
	ctx := context.Background()
	if _, err := c.Auth.WhoAmI(ctx); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("before login: %v", err)
	}
	if _, err := c.Auth.Login(ctx, "acme", "ada@acme.com", "pw"); err != nil {
		t.Fatal(err)
	}
	if me, err := c.Auth.WhoAmI(ctx); err != nil || me.UserID != "usr_1" {
		t.Fatalf("after login: %+v %v", me, err)
	}
}

// TestErrors: a refusal is an *Error with the status, the stable code and
// the message; its status class matches one sentinel; a body that is not
// the API's JSON error keeps the status with an http_<status> code and a
// bounded message.
func TestErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 2000) // 4000 bytes, 2-byte runes
	sentinels := []error{client.ErrUnauthorized, client.ErrForbidden, client.ErrNotFound, client.ErrConflict,
		client.ErrInvalid, client.ErrRateLimited, client.ErrUnavailable}
	for _, tt := range []struct {
		name          string
		status        int
		body          string
		code, message string
		sentinel      error // nil: matches none
		messageMaxLen int   // 0: message must equal
	}{
		{"JSON refusal", 403, `{"error":"plan_not_entitled","message":"single sign-on is not part of the organization's plan"}`,
			"plan_not_entitled", "single sign-on is not part of the organization's plan", client.ErrForbidden, 0},
		{"unauthorized", 401, `{"error":"token_expired","message":"expired"}`, "token_expired", "expired", client.ErrUnauthorized, 0},
		{"not found", 404, `{"error":"not_found","message":"no such organization"}`, "not_found", "no such organization", client.ErrNotFound, 0},
		{"conflict", 409, `{"error":"exists","message":"the organization exists"}`, "exists", "the organization exists", client.ErrConflict, 0},
		{"unprocessable", 422, `{"error":"invalid_settings","message":"default_role"}`, "invalid_settings", "default_role", client.ErrInvalid, 0},
		{"bad request", 400, `{"error":"invalid_json","message":"x"}`, "invalid_json", "x", client.ErrInvalid, 0},
		{"rate limited", 429, `{"error":"rate_limited","message":"later"}`, "rate_limited", "later", client.ErrRateLimited, 0},
		{"unavailable", 503, `{"error":"upstream_unavailable","message":"later"}`, "upstream_unavailable", "later", client.ErrUnavailable, 0},
		{"plain-text proxy page", 502, "  Bad Gateway\n", "http_502", "Bad Gateway", client.ErrUnavailable, 0},
		{"JSON without a code", 500, `{"message":"boom"}`, "http_500", `{"message":"boom"}`, nil, 0},
		{"empty body", 405, "", "http_405", "", nil, 0},
		{"long HTML page", 504, "<html>" + long + "</html>", "http_504", "", client.ErrUnavailable, 512 + len("…")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.answer("GET /v1/auth/whoami", tt.status, tt.body)
			_, err := newClient(t, client.Config{BaseURL: f.URL}).Auth.WhoAmI(context.Background())
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want a *client.Error", err)
			}
			if e.Status != tt.status || e.Code != tt.code {
				t.Fatalf("error %d %s, want %d %s", e.Status, e.Code, tt.status, tt.code)
			}
			if tt.messageMaxLen == 0 && e.Message != tt.message {
				t.Fatalf("message %q, want %q", e.Message, tt.message)
			}
			if tt.messageMaxLen > 0 && (len(e.Message) > tt.messageMaxLen || !strings.HasPrefix(e.Message, "<html>é") || !strings.HasSuffix(e.Message, "é…")) {
				t.Fatalf("message of %d bytes not bounded to %d at a rune boundary: %q", len(e.Message), tt.messageMaxLen, e.Message)
			}
			for _, s := range sentinels {
				if errors.Is(err, s) != (s == tt.sentinel) {
					t.Errorf("errors.Is(err, %v) = %v", s, !(s == tt.sentinel))
				}
			}
			if !strings.Contains(err.Error(), tt.code) {
				t.Errorf("Error() = %q lacks the code", err.Error())
			}
		})
	}
}

// TestResponseBodyIsBounded: the client reads at most MaxResponseBytes
// (+1) of an answer: a larger success is an error, a larger refusal keeps
// its status, and an endless body does not hang the call.
func TestResponseBodyIsBounded(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	written := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/auth/logout" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		io.WriteString(w, `{"user_id":"`)
		chunk := []byte(strings.Repeat("x", 32<<10))
		for range 1 << 10 { // up to 32 MiB, stopped by the client hanging up
			n, err := w.Write(chunk)
			mu.Lock()
			written += n
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, client.Config{BaseURL: srv.URL, MaxResponseBytes: 64 << 10})
	ctx := context.Background()
	_, err := c.Auth.WhoAmI(ctx)
	if err == nil || !strings.Contains(err.Error(), "larger than 65536 bytes") {
		t.Fatalf("oversized answer: %v", err)
	}
	var e *client.Error
	if err := c.Auth.Logout(ctx); !errors.As(err, &e) || e.Status != http.StatusServiceUnavailable || len(e.Message) > 512+len("…") {
		t.Fatalf("oversized refusal: %v", err)
	}
	srv.CloseClientConnections()
	mu.Lock()
	defer mu.Unlock()
	if written >= 32<<20 {
		t.Fatalf("the server wrote the whole %d-byte body: the client read it all", written)
	}
}

// TestMalformedAnswer: a 2xx answer that is not the expected JSON is an
// error, not a zero value.
func TestMalformedAnswer(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.answer("GET /v1/organizations/acme/users", 200, `{"not":"a list"}`)
	if _, err := newClient(t, client.Config{BaseURL: f.URL}).Organizations.Users(context.Background(), "acme"); err == nil || !strings.Contains(err.Error(), "decoding") {
		t.Fatalf("err = %v", err)
	}
}

// TestClientStaysOnItsOrigin: a redirect to another origin, the same host
// on another port included, is refused: neither the bearer credential nor
// a login's password goes there. A redirect within the origin is followed.
func TestClientStaysOnItsOrigin(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Write([]byte(`{}`))
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/auth/whoami":
			w.Header().Set("Location", other.URL+r.URL.Path) // 127.0.0.1, another port
			w.WriteHeader(http.StatusTemporaryRedirect)
		case "/v1/auth/login":
			w.Header().Set("Location", strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+r.URL.Path)
			w.WriteHeader(http.StatusPermanentRedirect)
		case "/v1/organizations/acme/users":
			http.Redirect(w, r, "/v1/organizations/acme/users/", http.StatusTemporaryRedirect)
		case "/v1/organizations/acme/users/":
			w.Write([]byte(`[]`))
		}
	}))
	defer api.Close()
	c, err := client.New(client.Config{BaseURL: api.URL, APIKey: "sk_secret_key"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Auth.WhoAmI(t.Context()); err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Errorf("whoami redirected to another port: %v", err)
	}
	if _, err := c.Auth.Login(t.Context(), "acme", "pat@acme.test", "hunter2"); err == nil {
		t.Error("login redirected to another host: no error")
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("%d requests reached the other origin", n)
	}
	if _, err := c.Organizations.Users(t.Context(), "acme"); err != nil {
		t.Errorf("a redirect within the origin: %v", err)
	}
}

// TestClientRedirectDefaultPort: a base URL that spells out the default
// port and a redirect that leaves it out (or the other way round) are the
// same origin.
func TestClientRedirectDefaultPort(t *testing.T) {
	for _, c := range []struct{ base, to string }{
		{"https://api.example.com:443", "https://api.example.com/v1/auth/whoami/"},
		{"https://api.example.com", "https://api.example.com:443/v1/auth/whoami/"},
		{"https://API.example.com", "https://api.example.com/v1/auth/whoami/"},
	} {
		rt := roundTripper(func(r *http.Request) (*http.Response, error) {
			if r.URL.Path == "/v1/auth/whoami" {
				return &http.Response{StatusCode: http.StatusTemporaryRedirect, Header: http.Header{"Location": {c.to}}, Body: http.NoBody, Request: r}, nil
			}
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(`{"org_id":"acme"}`)), Request: r}, nil
		})
		cl, err := client.New(client.Config{BaseURL: c.base, APIKey: "k", HTTPClient: &http.Client{Transport: rt}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.Auth.WhoAmI(t.Context()); err != nil {
			t.Errorf("%s -> %s: %v", c.base, c.to, err)
		}
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestClientRefusesDotSegments: an ID of "", "." or ".." is refused before
// anything is sent: url.PathEscape leaves them as they are, and they would
// address another route.
func TestClientRefusesDotSegments(t *testing.T) {
	var sent atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent.Add(1) }))
	defer api.Close()
	c, _ := client.New(client.Config{BaseURL: api.URL, APIKey: "k"})
	ctx := t.Context()
	for name, err := range map[string]error{
		"revoke ..":    c.APIKeys.Revoke(ctx, "acme", ".."),
		"remove .":     c.Organizations.RemoveUser(ctx, "acme", "."),
		"remove in ..": c.Organizations.RemoveUser(ctx, "..", "u1"),
		"remove empty": c.Organizations.RemoveUser(ctx, "acme", ""),
	} {
		if !errors.Is(err, client.ErrInvalid) {
			t.Errorf("%s: %v, want client.ErrInvalid", name, err)
		}
	}
	if _, err := c.Organizations.Users(ctx, ".."); !errors.Is(err, client.ErrInvalid) {
		t.Errorf("users of ..: %v", err)
	}
	if n := sent.Load(); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}
