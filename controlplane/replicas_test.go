package controlplane_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/client"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
	"github.com/ssokit/ssokit/store"
	"golang.org/x/crypto/bcrypt"
)

// backend gives replica i (0 or 1) its view of the shared state: the same
// store and expiring state for every replica, opened once per replica as
// separate processes would.
type backend func(t *testing.T, replica int) (store.Store, store.Expiring)

// memoryBackend shares one in-process store between the replicas: the
// shape of the test without engines.
func memoryBackend(t *testing.T) backend {
	st, _ := store.NewMemory(store.MemoryConfig{})
	return func(*testing.T, int) (store.Store, store.Expiring) { return st, st }
}

// replicaSet is two control-plane replicas behind one load balancer (the
// app's URL): a request goes to the replica its X-Test-Replica header
// names ("0" or "1"), else to replica 0.
type replicaSet struct {
	mock  *mockidp.Server
	clerk *mockidp.Clerk
	url   string
	apis  [2]*controlplane.API
	logs  [2]*testenv.LogBuffer
	st    [2]store.Store
	admin *client.Client
}

func newReplicaSet(t *testing.T, be backend) *replicaSet {
	t.Helper()
	rs := &replicaSet{}
	rs.mock = mockidp.Start(t, mockidp.DefaultConfig())
	rs.clerk = rs.mock.Clerk("clerk")
	var handlers [2]atomic.Pointer[http.Handler]
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := 0
		if r.Header.Get("X-Test-Replica") == "1" {
			i = 1
		}
		(*handlers[i].Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(lb.Close)
	rs.url = lb.URL
	stateKey := bytes.Repeat([]byte("s"), 32)
	sessionKey := appsession.EphemeralKey() // one key, shared as replicas share their configuration
	for i := range 2 {
		st, exp := be(t, i)
		rs.st[i] = st
		rs.logs[i] = &testenv.LogBuffer{}
		cp, err := controlplane.New(controlplane.Config{AppURL: lb.URL, StateKey: stateKey, Store: st, Expiring: exp,
			SessionKeys: []appsession.Key{sessionKey}, InsecureCookie: true,
			Clerk: clerkauth.Config{PublishableKey: rs.clerk.PublishableKey(), SecretKey: rs.clerk.SecretKey(),
				APIURL: rs.clerk.BackendAPIURL(), InsecureHTTPLoopback: true},
			ClerkSignInURL: rs.clerk.SignInURL(), HTTPClient: rs.mock.Client(), WebhookSecret: rs.clerk.WebhookSigningSecret(),
			BootstrapAdminKey: adminKey, InsecureAllowLoopbackIdP: true,
			Logger: slog.New(slog.NewTextHandler(rs.logs[i], &slog.HandlerOptions{Level: slog.LevelInfo}))})
		if err != nil {
			t.Fatal(err)
		}
		rs.apis[i] = cp
		var h http.Handler = cp
		handlers[i].Store(&h)
	}
	rs.admin = newClient(t, rs.url, adminKey, nil)
	ctx := context.Background()
	if _, err := rs.admin.Organizations.Create(ctx, "acme", "Acme", "enterprise"); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.admin.Organizations.ConfigureSSO(ctx, "acme", api.SSOSettings{ClerkOrgID: "org_acme", AllowedDomains: []string{"acme.test"},
		DefaultRole: "viewer", AutoCreateUsers: true, GroupRoles: []api.GroupRule{{Group: "admins", Role: "admin"}}}); err != nil {
		t.Fatal(err)
	}
	return rs
}

// toReplica sends every request to one replica, the one r points at.
type toReplica struct {
	r    *atomic.Int32
	next http.RoundTripper
}

func (t toReplica) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Test-Replica", string(rune('0'+t.r.Load())))
	return t.next.RoundTrip(r)
}

// browser is a browser whose requests to the app reach replica *r.
func (rs *replicaSet) browser(r *atomic.Int32) *http.Client {
	jar, _ := cookiejar.New(nil)
	hc := rs.mock.Client()
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = toReplica{r, next}
	hc.Jar = jar
	return hc
}

// signIn signs email in through Clerk in browser b and returns whoami.
func (rs *replicaSet) signIn(t *testing.T, b *http.Client, email string) (int, api.Whoami) {
	t.Helper()
	resp, err := mockidp.Browse(b, rs.url+"/auth/sso/start?"+url.Values{"email": {email}, "return_to": {"/v1/auth/whoami"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var me api.Whoami
	_ = json.Unmarshal([]byte(readAll(resp)), &me)
	return resp.StatusCode, me
}

func whoamiStatus(t *testing.T, b *http.Client, base string) int {
	t.Helper()
	resp, err := b.Get(base + "/v1/auth/whoami")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// eventually polls cond every 20 ms for at most bound.
func eventually(bound time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(bound); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// staleness is how long a change made through one replica may take to
// reach another's caches (README: the store's invalidation bound).
const staleness = 3 * time.Second

// runReplicaContract runs what two replicas sharing a backend must agree
// on.
func runReplicaContract(t *testing.T, newBackend func(t *testing.T) backend) {
	t.Run("session revoked through one replica is refused by the other", func(t *testing.T) {
		t.Parallel()
		rs := newReplicaSet(t, newBackend(t))
		var at atomic.Int32 // replica 0
		b := rs.browser(&at)
		if status, me := rs.signIn(t, b, "alice@acme.test"); status != 200 || me.Email != "alice@acme.test" {
			t.Fatalf("sign-in on replica 0: %d %+v", status, me)
		}
		at.Store(1)
		if got := whoamiStatus(t, b, rs.url); got != 200 { // replica 1 takes the session, and caches it
			t.Fatalf("the session on replica 1: %d", got)
		}
		// A copy of the cookie, kept by whoever stole it.
		u, _ := url.Parse(rs.url)
		stolen, _ := cookiejar.New(nil)
		stolen.SetCookies(u, b.Jar.Cookies(u))
		var one atomic.Int32
		one.Store(1)
		thief := &http.Client{Jar: stolen, Transport: toReplica{&one, http.DefaultTransport}}
		at.Store(0)
		req, _ := http.NewRequest("POST", rs.url+"/v1/auth/logout", nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout on replica 0: %d", resp.StatusCode)
		}
		if !eventually(staleness, func() bool { return whoamiStatus(t, thief, rs.url) == http.StatusUnauthorized }) {
			t.Fatalf("replica 1 still takes the revoked session after %v", staleness)
		}
	})

	t.Run("sign-in state consumed on one replica is refused on the other", func(t *testing.T) {
		t.Parallel()
		rs := newReplicaSet(t, newBackend(t))
		var at atomic.Int32
		b := rs.browser(&at)
		// The callback request that completed the sign-in, recorded with
		// the cookies it carried.
		var mu sync.Mutex
		var callback *http.Request
		b.Transport = recordCallback{b.Transport, func(r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if callback == nil || r.Header.Get("Cookie") != "" {
				callback = r
			}
		}}
		if status, me := rs.signIn(t, b, "alice@acme.test"); status != 200 || me.Email != "alice@acme.test" {
			t.Fatalf("sign-in on replica 0: %d %+v", status, me)
		}
		mu.Lock()
		replay := callback.Clone(context.Background())
		mu.Unlock()
		replay.Header.Set("X-Test-Replica", "1")
		resp, err := http.DefaultTransport.RoundTrip(replay)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(resp)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "invalid_state") {
			t.Fatalf("the callback replayed on replica 1: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("SAML response accepted by one replica is a replay on the other", func(t *testing.T) {
		t.Parallel()
		rs := newReplicaSet(t, newBackend(t))
		ctx := context.Background()
		ol := rs.mock.Persona("onelogin")
		entity, acs := rs.url+"/saml/initech", rs.url+"/auth/sso/acs/initech"
		if err := ol.RegisterServiceProvider(mockidp.ServiceProviderConfig{EntityID: entity, ACSURL: acs}); err != nil {
			t.Fatal(err)
		}
		if _, err := rs.admin.Organizations.Create(ctx, "initech", "Initech", "enterprise"); err != nil {
			t.Fatal(err)
		}
		conn := &idp.Connection{ID: "initech", Protocol: sso.SAML, Vendor: sso.OneLogin,
			SAML: &idp.SAMLSettings{IDPMetadataURL: ol.SAMLMetadataURL(), EntityID: entity, ACSURL: acs,
				// A new OneLogin app signs with SHA-1, which the administrator allows here.
				AllowSHA1: true}}
		if _, err := rs.admin.Organizations.ConfigureSSO(ctx, "initech", api.SSOSettings{Connection: rawJSON(t, conn),
			AllowedDomains: []string{"initech.test"}, DefaultRole: "viewer", AutoCreateUsers: true}); err != nil {
			t.Fatal(err)
		}
		var at atomic.Int32
		b := rs.browser(&at)
		var mu sync.Mutex
		var post *http.Request
		var form []byte
		b.Transport = recordACS{b.Transport, func(r *http.Request, body []byte) {
			mu.Lock()
			defer mu.Unlock()
			post, form = r, body
		}}
		ol.QueueUser("alice@initech.test")
		resp, err := mockidp.Browse(b, rs.url+"/auth/sso/start?org=initech&return_to=/v1/auth/whoami")
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(resp); resp.StatusCode != 200 || !strings.Contains(body, "alice@initech.test") {
			t.Fatalf("SAML sign-in on replica 0: %d %s", resp.StatusCode, body)
		}
		mu.Lock()
		replay, _ := http.NewRequest("POST", post.URL.String(), bytes.NewReader(form))
		replay.Header = post.Header.Clone() // the same cookies: the browser-bound state is valid
		mu.Unlock()
		replay.Header.Set("X-Test-Replica", "1")
		resp, err = http.DefaultTransport.RoundTrip(replay)
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(resp); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "sso_failed") {
			t.Fatalf("the response replayed on replica 1: %d %s", resp.StatusCode, body)
		}
		if logs := rs.logs[1].String(); !strings.Contains(logs, "reason=replay") {
			t.Fatalf("replica 1 refused it for another reason:\n%s", logs)
		}
	})

	t.Run("concurrent first logins over both replicas make one user", func(t *testing.T) {
		t.Parallel()
		rs := newReplicaSet(t, newBackend(t))
		var wg sync.WaitGroup
		ids := make(chan string, 20)
		for i := range 20 {
			wg.Go(func() {
				var at atomic.Int32
				at.Store(int32(i % 2))
				status, me := rs.signIn(t, rs.browser(&at), "bob@acme.test")
				if status != 200 {
					t.Errorf("sign-in %d: %d", i, status)
				}
				ids <- me.UserID
			})
		}
		wg.Wait()
		close(ids)
		seen := map[string]bool{}
		for id := range ids {
			seen[id] = true
		}
		users, err := rs.st[0].ListUsers(context.Background(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != 1 || len(seen) != 1 || !seen[users[0].ID] {
			t.Fatalf("%d users %+v, whoami IDs %v", len(users), users, seen)
		}
	})

	t.Run("require_sso turned on through one replica ends password sessions on the other", func(t *testing.T) {
		t.Parallel()
		rs := newReplicaSet(t, newBackend(t))
		ctx := context.Background()
		hash, _ := bcrypt.GenerateFromPassword([]byte("a long password"), bcrypt.MinCost)
		if _, _, err := rs.st[0].CreateUserIfAbsent(ctx, store.User{ID: "usr_dave", OrgID: "acme", Email: "dave@acme.test", Role: "viewer",
			PasswordHash: string(hash), Source: "password"}); err != nil {
			t.Fatalf("create a password user: %v", err)
		}
		var at atomic.Int32
		at.Store(1)
		b := rs.browser(&at)
		resp, err := b.Post(rs.url+"/v1/auth/login", "application/json", strings.NewReader(`{"org":"acme","email":"dave@acme.test","password":"a long password"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || whoamiStatus(t, b, rs.url) != 200 {
			t.Fatalf("password login on replica 1: %d", resp.StatusCode)
		}
		var zero atomic.Int32
		if _, err := newClient(t, rs.url, adminKey, &http.Client{Transport: toReplica{&zero, http.DefaultTransport}}).Organizations.Update(ctx, "acme",
			api.UpdateOrgRequest{RequireSSO: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		if !eventually(staleness, func() bool { return whoamiStatus(t, b, rs.url) == http.StatusUnauthorized }) {
			t.Fatalf("replica 1 still takes the password session %v after require_sso", staleness)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// recordACS passes requests on and shows fn every POST to a direct
// connection's ACS, with its body.
type recordACS struct {
	next http.RoundTripper
	fn   func(*http.Request, []byte)
}

func (rc recordACS) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/auth/sso/acs/") && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		rc.fn(r.Clone(context.Background()), body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return rc.next.RoundTrip(r)
}

// recordCallback passes requests on and shows fn every GET of the SSO
// callback.
type recordCallback struct {
	next http.RoundTripper
	fn   func(*http.Request)
}

func (rc recordCallback) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && r.URL.Path == "/auth/sso/callback" {
		rc.fn(r.Clone(context.Background()))
	}
	return rc.next.RoundTrip(r)
}

// Two replicas on one in-process store: the contract's shape, without
// engines (the SQL and Redis backends run it in replicas_sql_test.go).
func TestReplicasOnMemory(t *testing.T) {
	t.Parallel()
	runReplicaContract(t, memoryBackend)
}
