package controlplane_test

// The load and chaos test of the control plane (README, "Load and chaos
// test"). It runs only with SSOKIT_CHAOS=1:
//
//	SSOKIT_CHAOS=1 go test -count=1 -run Chaos ./controlplane/
//	SSOKIT_CHAOS=1 SSOKIT_CHAOS_DURATION=5m go test -count=1 -timeout 30m -run Chaos ./controlplane/
//
// scripts/test.sh runs it in a step of its own, without -race (the race
// detector's cost would measure itself, not the control plane).

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/internal/faultproxy"
	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/store"
	"github.com/ssokit/ssokit/store/redisstore"
	"github.com/ssokit/ssokit/store/sqlstore"
)

const (
	// chaosClients is how many clients send requests at once.
	chaosClients = 50
	// chaosRefresh is the verifier's JWKS refresh interval: the least time
	// between two fetches, whatever the number of unknown kids.
	chaosRefresh = time.Second
	// storeGrace follows a declared store outage: the PostgreSQL listener
	// and the Redis subscriber reconnect with backoff doubling from 100 ms
	// (50 ms) to 5 s, so after a 2 s outage the next attempt comes at most
	// ~1.6 s after the engine is back; 5 s covers that, the reconnection
	// and the pools' dead connections on a busy machine.
	storeGrace = 5 * time.Second
	// jwksGrace follows the first good JWKS fetch after a key appeared:
	// requests verified while that fetch was in flight may still see the
	// old set.
	jwksGrace = 500 * time.Millisecond
	// The bounds after the run, measured after a GC against a baseline
	// taken after a warm-up: goroutines (the faultproxy's, which are
	// test infrastructure, not counted) and heap in use.
	goroutineSlack = 10
	heapSlack      = 32 << 20
)

// chaosDuration is how long the load runs: SSOKIT_CHAOS_DURATION, 20 s by
// default. The test skips unless SSOKIT_CHAOS=1.
func chaosDuration(t *testing.T) time.Duration {
	t.Helper()
	if os.Getenv("SSOKIT_CHAOS") != "1" {
		t.Skip("the load and chaos test runs with SSOKIT_CHAOS=1: SSOKIT_CHAOS=1 go test -run Chaos ./controlplane/ " +
			"(SSOKIT_CHAOS_DURATION=5m for the long variant)")
	}
	d := 20 * time.Second
	if v := os.Getenv("SSOKIT_CHAOS_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d < 10*time.Second {
			t.Fatalf("SSOKIT_CHAOS_DURATION=%q: want a duration of at least 10s", v)
		}
	}
	return d
}

// jwksTap sits between the control plane's Clerk verifier and the mock
// Clerk: it counts JWKS fetches, logs when each started and ended and how,
// and can slow them down.
type jwksTap struct {
	next  http.RoundTripper
	delay atomic.Int64 // nanoseconds added to each fetch
	mu    sync.Mutex
	log   []jwksFetch
}

type jwksFetch struct {
	start, end time.Time
	ok         bool
}

func isJWKS(p string) bool {
	return strings.HasSuffix(p, "/jwks") || strings.HasSuffix(p, "/jwks.json")
}

func (j *jwksTap) RoundTrip(r *http.Request) (*http.Response, error) {
	if !isJWKS(r.URL.Path) {
		return j.next.RoundTrip(r)
	}
	f := jwksFetch{start: time.Now()}
	if d := time.Duration(j.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
	}
	resp, err := j.next.RoundTrip(r)
	f.end, f.ok = time.Now(), err == nil && resp.StatusCode == http.StatusOK
	j.mu.Lock()
	j.log = append(j.log, f)
	j.mu.Unlock()
	return resp, err
}

func (j *jwksTap) fetches(from, to time.Time) []jwksFetch {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []jwksFetch
	for _, f := range j.log {
		if !f.start.Before(from) && f.start.Before(to) {
			out = append(out, f)
		}
	}
	return out
}

// firstGoodFetchAfter is when the first successful fetch that started
// after t ended (zero if none).
func (j *jwksTap) firstGoodFetchAfter(t time.Time) time.Time {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, f := range j.log {
		if f.ok && f.start.After(t) {
			return f.end
		}
	}
	return time.Time{}
}

// chaosRig is the control plane on PostgreSQL and Redis, each reached
// through a fault proxy, and a mock identity platform whose clock can be
// moved. p is the same rig as the other tests' plane (its st is nil: the
// store is st here), so their helpers apply.
type chaosRig struct {
	p           *plane
	st          store.Store
	pg, redis   *faultproxy.Proxy
	tap         *jwksTap
	clockOffset *atomic.Int64
	logs        *testenv.LogBuffer // the control plane's log
}

func newChaosRig(t *testing.T, logLevel slog.Level) *chaosRig {
	t.Helper()
	pgDSN := testenv.PostgresSchema(t)
	redisURL, prefix := testenv.RedisPrefix(t)
	r := &chaosRig{clockOffset: &atomic.Int64{}, logs: &testenv.LogBuffer{}}
	pgCut, pgProxy := viaProxy(t, pgDSN)
	redisCut, redisProxy := viaProxy(t, redisURL)
	r.pg, r.redis = pgProxy, redisProxy
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, sqlstore.Config{DSN: pgCut, MaxOpenConns: 8, MaxIdleConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rs, err := redisstore.New(ctx, redisstore.Config{URL: redisCut, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	r.st = st

	mcfg := mockidp.DefaultConfig()
	mcfg.Now = func() time.Time { return time.Now().Add(time.Duration(r.clockOffset.Load())) }
	mock := mockidp.Start(t, mcfg)
	c := mock.Clerk("clerk")
	p := &plane{mock: mock, clerk: c}
	var h http.Handler = http.NotFoundHandler()
	p.app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(p.app.Close)
	hc := mock.Client()
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	r.tap = &jwksTap{next: next}
	stateKey, secretsKey := make([]byte, 32), make([]byte, 32)
	rand.Read(stateKey)
	rand.Read(secretsKey)
	cp, err := controlplane.New(controlplane.Config{AppURL: p.app.URL, StateKey: stateKey, Store: st, Expiring: rs,
		SecretsKeys:         [][]byte{secretsKey}, // a SQL store keeps OIDC client secrets sealed
		EphemeralSessionKey: true, InsecureCookie: true,
		Clerk: clerkauth.Config{PublishableKey: c.PublishableKey(), SecretKey: c.SecretKey(), APIURL: c.BackendAPIURL(),
			InsecureHTTPLoopback: true, RefreshInterval: chaosRefresh, HTTPClient: &http.Client{Transport: r.tap, Timeout: 10 * time.Second}},
		ClerkSignInURL: c.SignInURL(), HTTPClient: mock.Client(), WebhookSecret: c.WebhookSigningSecret(), BootstrapAdminKey: adminKey,
		InsecureAllowLoopbackIdP: true, Logger: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: logLevel}))})
	if err != nil {
		t.Fatal(err)
	}
	h = cp
	p.admin = newClient(t, p.app.URL, adminKey, nil)
	// Acme signs in through Clerk and Okta (SAML), Contoso through Clerk
	// and Azure AD (OIDC), as in newPlane.
	for _, o := range []struct{ id, clerkOrg, domain string }{{"acme", "org_acme", "acme.test"}, {"contoso", "org_contoso", "contoso.test"}} {
		if _, err := p.admin.Organizations.Create(ctx, o.id, o.id, "enterprise"); err != nil {
			t.Fatal(err)
		}
		if _, err := p.admin.Organizations.ConfigureSSO(ctx, o.id, api.SSOSettings{ClerkOrgID: o.clerkOrg, AllowedDomains: []string{o.domain},
			DefaultRole: "viewer", AutoCreateUsers: true, GroupRoles: []api.GroupRule{{Group: "admins", Role: "admin"}}}); err != nil {
			t.Fatal(err)
		}
	}
	r.p = p
	t.Cleanup(func() {
		if t.Failed() {
			lines := strings.Split(r.logs.String(), "\n")
			t.Logf("the end of the control plane's log:\n%s", strings.Join(lines[max(0, len(lines)-60):], "\n"))
		}
	})
	return r
}

// ---- the material ----------------------------------------------------------

// A request is valid when a correct control plane must accept it:
//
//   - a Clerk session token the mock Clerk minted for a person of a mapped
//     organization, unexpired, for this app (azp), signed by a key the
//     mock's JWKS publishes. The mock keeps every previous key published
//     after a rotation, so tokens signed before a rotation stay valid
//     until they expire (60 s; the long variant mints a fresh set every
//     20 s, and sends the first key's tokens while under 40 s old).
//     Tokens of a new key are sent only from RefreshInterval + 0.5 s after the
//     rotation: earlier, the verifier may rightly refuse the kid as
//     unknown without a fetch (that is the refresh interval's contract);
//   - the app's session cookie from the session exchange, not logged out;
//   - an API key, not revoked;
//   - the session exchange itself (POST /v1/auth/session) with a valid
//     Clerk token.
//
// Everything else is invalid: expired Clerk tokens, tokens with a kid no
// JWKS has (a fresh one each time, signed by a key of our own), a
// lookalike issuer signed by our key under a real kid, a valid token with
// its payload changed, garbage, unknown or revoked API keys, logged-out or
// tampered cookies.
type chaosUser struct{ email, org, clerkOrg, role string }

var chaosUsers = []chaosUser{
	{"alice@acme.test", "acme", "org_acme", "admin"},
	{"bob@acme.test", "acme", "org_acme", "member"},
	{"carol@acme.test", "acme", "org_acme", "member"},
	{"dave@acme.test", "acme", "org_acme", "member"},
	{"alice@contoso.test", "contoso", "org_contoso", "admin"},
	{"bob@contoso.test", "contoso", "org_contoso", "member"},
}

// tokenSet is the Clerk tokens of one key epoch (0: the first key, 1 and 2:
// after each rotation), minted at one time.
type tokenSet struct {
	epoch  int
	minted time.Time
	toks   []string // by chaosUsers index
}

type material struct {
	current   atomic.Pointer[tokenSet]
	first     *tokenSet       // the first key's tokens, valid until they expire
	cookies   []string        // name=value, by chaosUsers index
	apiKeys   []string        // acme's
	published [3]atomic.Int64 // when each epoch's key became active (unix nanos)

	expired, lookalike, tampered []string
	revokedCookies, badCookies   []string
	revokedKeys                  []string
	forgeKey                     *rsa.PrivateKey
	forgeHeader                  map[string]any
	forgeClaims                  map[string]any
	forged                       atomic.Int64
}

func (m *material) mint(t testing.TB, r *chaosRig, epoch int) *tokenSet {
	s := &tokenSet{epoch: epoch, minted: time.Now()}
	for _, u := range chaosUsers {
		tok, err := r.p.clerk.MintSessionToken(u.email, u.clerkOrg, u.role, r.p.app.URL)
		if err != nil {
			t.Errorf("mint a session token: %v", err)
			return m.current.Load()
		}
		s.toks = append(s.toks, tok)
	}
	return s
}

func jwtParts(t testing.TB, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.40s", tok)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

func signRS256(key *rsa.PrivateKey, header, claims map[string]any) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// exchange trades a Clerk token for the app's session cookie (name=value).
func exchange(t testing.TB, base, tok string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/v1/auth/session", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(resp)
	if resp.StatusCode != 200 {
		t.Fatalf("session exchange: %d %s", resp.StatusCode, body)
	}
	for _, c := range resp.Cookies() {
		if strings.Contains(c.Name, "session") && c.Value != "" && !strings.HasPrefix(c.Name, "__") {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("session exchange set no app cookie: %v", resp.Header["Set-Cookie"])
	return ""
}

func prepare(t *testing.T, r *chaosRig) *material {
	t.Helper()
	ctx := context.Background()
	base := r.p.app.URL
	m := &material{}
	m.published[0].Store(time.Now().UnixNano())
	m.first = m.mint(t, r, 0)
	m.current.Store(m.first)
	for _, tok := range m.first.toks {
		m.cookies = append(m.cookies, exchange(t, base, tok))
	}
	for i, role := range []string{"admin", "editor", "viewer"} {
		k, err := r.p.admin.APIKeys.Create(ctx, "acme", fmt.Sprintf("bot-%d", i), role, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		m.apiKeys = append(m.apiKeys, k.Key)
	}
	// A revoked key, and a logged-out session.
	k, err := r.p.admin.APIKeys.Create(ctx, "acme", "revoked-bot", "editor", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.p.admin.APIKeys.Revoke(ctx, "acme", k.ID); err != nil {
		t.Fatal(err)
	}
	m.revokedKeys = []string{k.Key, "ssk_live_" + strings.Repeat("A", 40)}
	tok, err := r.p.clerk.MintSessionToken("erin@acme.test", "org_acme", "member", base)
	if err != nil {
		t.Fatal(err)
	}
	gone := exchange(t, base, tok)
	req, _ := http.NewRequest("POST", base+"/v1/auth/logout", nil)
	req.Header.Set("Cookie", gone)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %v %v", err, resp)
	}
	resp.Body.Close()
	m.revokedCookies = []string{gone}
	// A cookie whose signature, or payload, was changed.
	name, val, _ := strings.Cut(m.cookies[1], "=")
	flip := func(s string, i int) string {
		b := []byte(s)
		b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
		return string(b)
	}
	m.badCookies = []string{name + "=" + flip(val, len(val)-3), name + "=" + flip(val, strings.Index(val, ".")+5), name + "=garbage"}

	// Expired: minted an hour and more ago (exp long past the leeway).
	r.clockOffset.Store(int64(-2 * time.Hour))
	for _, u := range chaosUsers[:2] {
		tok, err := r.p.clerk.MintSessionToken(u.email, u.clerkOrg, u.role, base)
		if err != nil {
			t.Fatal(err)
		}
		m.expired = append(m.expired, tok)
	}
	r.clockOffset.Store(0)

	// Our own key: forged kids, and a lookalike issuer under the real kid.
	if m.forgeKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	hdr, claims := jwtParts(t, m.first.toks[1])
	m.forgeHeader, m.forgeClaims = hdr, claims
	iss := claims["iss"].(string)
	u, _ := url.Parse(iss)
	for _, look := range []string{iss + ".evil.test", strings.Replace(iss, u.Host, "clerk."+u.Hostname()+".evil.test:"+u.Port(), 1),
		iss + "/", strings.Replace(iss, "http://", "https://", 1)} {
		c := maps(claims)
		c["iss"] = look
		c["email"] = "alice@acme.test"
		m.lookalike = append(m.lookalike, signRS256(m.forgeKey, hdr, c))
	}
	// Tampered: a real token with bob made alice (the admin), the role
	// raised, or the expiry moved; the signature is Clerk's, for the
	// original payload.
	orig := m.first.toks[1]
	parts := strings.Split(orig, ".")
	for _, edit := range []func(map[string]any){
		func(c map[string]any) { c["email"] = "alice@acme.test" },
		func(c map[string]any) { c["sub"] = "user_someone_else" },
		func(c map[string]any) { c["exp"] = time.Now().Add(24 * time.Hour).Unix() },
		func(c map[string]any) {
			if o, ok := c["o"].(map[string]any); ok {
				o["rol"] = "admin"
			}
			c["org_role"] = "org:admin"
		},
	} {
		c := maps(claims)
		edit(c)
		b, _ := json.Marshal(c)
		m.tampered = append(m.tampered, parts[0]+"."+base64.RawURLEncoding.EncodeToString(b)+"."+parts[2])
	}
	sig := []byte(parts[2])
	sig[10] ^= 1
	m.tampered = append(m.tampered, parts[0]+"."+parts[1]+"."+string(sig))
	return m
}

func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if mm, ok := v.(map[string]any); ok {
			v = maps(mm)
		}
		out[k] = v
	}
	return out
}

// forgedToken is a token like a real one under a kid no JWKS has, a new
// one each time, signed by our key.
func (m *material) forgedToken() string {
	n := m.forged.Add(1)
	h := maps(m.forgeHeader)
	h["kid"] = fmt.Sprintf("ins_forged_%d_%x", n, mrand.Uint64())
	c := maps(m.forgeClaims)
	c["iat"], c["exp"] = time.Now().Unix(), time.Now().Add(time.Minute).Unix()
	return signRS256(m.forgeKey, h, c)
}

// ---- the requests ----------------------------------------------------------

// chaosReq is one request to send: the epoch of its Clerk key (-1 when
// none) and, for a valid one, whom a success must name.
type chaosReq struct {
	epoch int
	user  int // chaosUsers index, -1 when not a person
	req   *http.Request
}

type chaosKind struct {
	name   string
	valid  bool
	weight int
	build  func(m *material, rnd *mrand.Rand, base string) chaosReq
}

func whoamiWith(base string, set func(http.Header)) *http.Request {
	req, _ := http.NewRequest("GET", base+"/v1/auth/whoami", nil)
	set(req.Header)
	return req
}

func bearerH(tok string) func(http.Header) {
	return func(h http.Header) { h.Set("Authorization", "Bearer "+tok) }
}

func pick[T any](rnd *mrand.Rand, s []T) (T, int) {
	i := rnd.IntN(len(s))
	return s[i], i
}

var chaosKinds = []chaosKind{
	{"clerk-token", true, 14, func(m *material, rnd *mrand.Rand, base string) chaosReq {
		s := m.current.Load()
		tok, i := pick(rnd, s.toks)
		return chaosReq{epoch: s.epoch, user: i, req: whoamiWith(base, bearerH(tok))}
	}},
	// Tokens of the first key, valid after both rotations until they
	// expire: sent while under 40 s old (the long variant then sends the
	// current set instead).
	{"clerk-token-first-key", true, 4, func(m *material, rnd *mrand.Rand, base string) chaosReq {
		s := m.first
		if time.Since(s.minted) > 40*time.Second {
			s = m.current.Load()
		}
		tok, i := pick(rnd, s.toks)
		return chaosReq{epoch: s.epoch, user: i, req: whoamiWith(base, bearerH(tok))}
	}},
	{"clerk-exchange", true, 3, func(m *material, rnd *mrand.Rand, base string) chaosReq {
		s := m.current.Load()
		tok, i := pick(rnd, s.toks)
		req, _ := http.NewRequest("POST", base+"/v1/auth/session", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		return chaosReq{epoch: s.epoch, user: i, req: req}
	}},
	{"app-cookie", true, 14, func(m *material, rnd *mrand.Rand, base string) chaosReq {
		c, i := pick(rnd, m.cookies)
		return chaosReq{epoch: -1, user: i, req: whoamiWith(base, func(h http.Header) { h.Set("Cookie", c) })}
	}},
	{"api-key", true, 10, func(m *material, rnd *mrand.Rand, base string) chaosReq {
		k, _ := pick(rnd, m.apiKeys)
		set := func(h http.Header) { h.Set("X-API-Key", k) }
		if rnd.IntN(2) == 0 {
			set = bearerH(k)
		}
		return chaosReq{epoch: -1, user: -1, req: whoamiWith(base, set)}
	}},
	{"expired-token", false, 4, func(m *material, rnd *mrand.Rand, base string) chaosReq {
		tok, _ := pick(rnd, m.expired)
		return chaosReq{req: whoamiWith(base, bearerH(tok))}
	}},
	{"forged-kid", false, 12, func(m *material, rnd *mrand.Rand, base string) chaosReq {
		tok := m.forgedToken()
		if rnd.IntN(4) == 0 { // the same, as Clerk's cookie
			return chaosReq{req: whoamiWith(base, func(h http.Header) { h.Set("Cookie", "__session="+tok) })}
		}
		return chaosReq{req: whoamiWith(base, bearerH(tok))}
	}},
	{"lookalike-issuer", false, 4, func(m *material, rnd *mrand.Rand, base string) chaosReq {
		tok, _ := pick(rnd, m.lookalike)
		return chaosReq{req: whoamiWith(base, bearerH(tok))}
	}},
	{"tampered-token", false, 5, func(m *material, rnd *mrand.Rand, base string) chaosReq {
		tok, _ := pick(rnd, m.tampered)
		if rnd.IntN(3) == 0 {
			req, _ := http.NewRequest("POST", base+"/v1/auth/session", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			return chaosReq{req: req}
		}
		return chaosReq{req: whoamiWith(base, bearerH(tok))}
	}},
	{"garbage", false, 5, func(m *material, rnd *mrand.Rand, base string) chaosReq {
		b := make([]byte, 8+rnd.IntN(120))
		for i := range b {
			b[i] = byte(rnd.UintN(256))
		}
		g := base64.RawURLEncoding.EncodeToString(b)
		var set func(http.Header)
		switch rnd.IntN(6) {
		case 0:
			set = bearerH(g)
		case 1:
			set = bearerH(g[:len(g)/3] + "." + g[len(g)/3:2*len(g)/3] + "." + g[2*len(g)/3:])
		case 2:
			set = bearerH("ssk_live_" + g)
		case 3:
			set = func(h http.Header) { h.Set("X-API-Key", g) }
		case 4:
			set = func(h http.Header) { h.Set("Cookie", "__session="+g) }
		default:
			set = func(h http.Header) { h.Set("Authorization", "Basic "+g) }
		}
		return chaosReq{req: whoamiWith(base, set)}
	}},
	{"revoked-api-key", false, 4, func(m *material, rnd *mrand.Rand, base string) chaosReq {
		k, _ := pick(rnd, m.revokedKeys)
		return chaosReq{req: whoamiWith(base, func(h http.Header) { h.Set("X-API-Key", k) })}
	}},
	{"bad-cookie", false, 5, func(m *material, rnd *mrand.Rand, base string) chaosReq {
		all := append(slices.Clone(m.revokedCookies), m.badCookies...)
		c, _ := pick(rnd, all)
		return chaosReq{req: whoamiWith(base, func(h http.Header) { h.Set("Cookie", c) })}
	}},
}

// ---- the record ------------------------------------------------------------

type result struct {
	kind    int // chaosKinds index
	epoch   int
	start   time.Time
	latency time.Duration
	status  int // 0: transport error
	wrong   string
}

type window struct {
	name       string
	start, end time.Time
}

// overlaps reports whether a request in flight from start for d was in
// flight at any time during w or the grace after it.
func (w window) overlaps(start time.Time, d, grace time.Duration) bool {
	return start.Add(d).After(w.start) && (w.end.IsZero() || start.Before(w.end.Add(grace)))
}

// ---- the test --------------------------------------------------------------

// TestChaos: 50 clients send valid and invalid credentials to the control
// plane on PostgreSQL and Redis while the mock Clerk rotates its key twice,
// its JWKS goes down and comes back slow, and each store drops once.
func TestChaos(t *testing.T) {
	dur := chaosDuration(t)
	r := newChaosRig(t, slog.LevelWarn)
	m := prepare(t, r)
	base := r.p.app.URL

	tr := &http.Transport{MaxIdleConns: chaosClients * 2, MaxIdleConnsPerHost: chaosClients * 2, IdleConnTimeout: time.Minute}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	weights := 0
	for _, k := range chaosKinds {
		weights += k.weight
	}
	send := func(rnd *mrand.Rand) result {
		w := rnd.IntN(weights)
		ki := 0
		for ; w >= chaosKinds[ki].weight; ki++ {
			w -= chaosKinds[ki].weight
		}
		k := chaosKinds[ki]
		cr := k.build(m, rnd, base)
		res := result{kind: ki, epoch: cr.epoch, start: time.Now()}
		resp, err := hc.Do(cr.req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			res.status = resp.StatusCode
			if k.valid && res.status/100 == 2 {
				res.wrong = wrongIdentity(body, cr.user)
			}
		} else {
			res.wrong = err.Error()
		}
		res.latency = time.Since(res.start)
		return res
	}
	load := func(d time.Duration) [][]result {
		out := make([][]result, chaosClients)
		var wg sync.WaitGroup
		end := time.Now().Add(d)
		for c := range chaosClients {
			wg.Go(func() {
				rnd := mrand.New(mrand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))
				for time.Now().Before(end) {
					out[c] = append(out[c], send(rnd))
				}
			})
		}
		wg.Wait()
		return out
	}

	// Warm up (pools, caches, keep-alive connections), then the baseline.
	load(time.Second)
	gBefore, hBefore := settle(tr)

	m.forged.Store(0)
	var (
		wmu     sync.Mutex
		windows []window
	)
	declare := func(name string) func() {
		wmu.Lock()
		i := len(windows)
		windows = append(windows, window{name: name, start: time.Now()})
		wmu.Unlock()
		return func() { wmu.Lock(); windows[i].end = time.Now(); wmu.Unlock() }
	}
	runStart := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var chaosWG sync.WaitGroup
	at := func(frac float64, fn func()) {
		chaosWG.Go(func() {
			select {
			case <-time.After(time.Until(runStart.Add(time.Duration(frac * float64(dur))))):
				fn()
			case <-ctx.Done():
			}
		})
	}
	sleep := func(d time.Duration) {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	rotate := func(epoch int, issueAfter time.Duration) {
		if err := r.p.clerk.RotateKeys(); err != nil {
			t.Errorf("rotate: %v", err)
			return
		}
		m.published[epoch].Store(time.Now().UnixNano())
		sleep(issueAfter)
		m.current.Store(m.mint(t, r, epoch))
	}
	issueAfter := chaosRefresh + 500*time.Millisecond
	at(0.10, func() { rotate(1, issueAfter) })
	at(0.30, func() {
		end := declare("JWKS down")
		if err := r.p.clerk.InjectFault(mockidp.ClerkJWKSUnavailable, 0); err != nil {
			t.Errorf("JWKS down: %v", err)
		}
		chaosWG.Go(func() { sleep(500 * time.Millisecond); rotate(2, issueAfter) })
		sleep(3 * time.Second)
		r.tap.delay.Store(int64(300 * time.Millisecond))
		r.p.clerk.ClearFaults()
		end()
		endSlow := declare("JWKS slow (300 ms)")
		sleep(max(5*time.Second, dur/10))
		r.tap.delay.Store(0)
		endSlow()
	})
	outage := func(name string, p *faultproxy.Proxy) func() {
		return func() {
			end := declare(name)
			p.Refuse(true)
			sleep(2 * time.Second)
			p.Refuse(false)
			end()
		}
	}
	at(0.55, outage("PostgreSQL down", r.pg))
	at(0.75, outage("Redis down", r.redis))
	// The long variant keeps tokens fresh: a new set every 20 s.
	chaosWG.Go(func() {
		for {
			select {
			case <-time.After(20 * time.Second):
				s := m.current.Load()
				m.current.Store(m.mint(t, r, s.epoch))
			case <-ctx.Done():
				return
			}
		}
	})

	results := load(dur)
	runEnd := time.Now()
	cancel()
	chaosWG.Wait()

	// Every valid kind answers again once the outages are over.
	var lastMiss string
	recovered := eventually(20*time.Second, func() bool {
		rnd := mrand.New(mrand.NewPCG(1, 2))
		for ki, k := range chaosKinds {
			if !k.valid {
				continue
			}
			for range 3 {
				cr := k.build(m, rnd, base)
				resp, err := hc.Do(cr.req)
				if err != nil {
					return false
				}
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					lastMiss = fmt.Sprintf("%s: %d", chaosKinds[ki].name, resp.StatusCode)
					return false
				}
			}
		}
		return true
	})

	// Judge each request.
	type row struct {
		n, ok, s4xx, s503, jwks503, other, wrongOK int
		lat                                        []time.Duration
	}
	rows := make([]row, len(chaosKinds))
	var failures []string
	failf := func(format string, args ...any) {
		if len(failures) < 30 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	var stores []window
	var jwksDown window
	for _, w := range windows {
		if strings.HasSuffix(w.name, "down") && w.name != "JWKS down" {
			stores = append(stores, w)
		}
		if w.name == "JWKS down" {
			jwksDown = w
		}
	}
	// The first good fetch after each key appeared: until then (and a
	// grace) a token of that key may be answered 503.
	var fetchedBy [3]time.Time
	for e := range fetchedBy {
		if p := m.published[e].Load(); p != 0 {
			fetchedBy[e] = r.tap.firstGoodFetchAfter(time.Unix(0, p))
		}
	}
	total := 0
	for _, rs := range results {
		for _, res := range rs {
			k := chaosKinds[res.kind]
			rw := &rows[res.kind]
			rw.n++
			total++
			rw.lat = append(rw.lat, res.latency)
			inStore := slices.ContainsFunc(stores, func(w window) bool { return w.overlaps(res.start, res.latency, storeGrace) })
			switch {
			case res.status/100 == 2:
				rw.ok++
				if !k.valid {
					failf("%s accepted: %d at +%v", k.name, res.status, res.start.Sub(runStart).Round(time.Millisecond))
				} else if res.wrong != "" {
					rw.wrongOK++
					failf("%s answered for the wrong principal: %s", k.name, res.wrong)
				}
			case res.status == http.StatusServiceUnavailable:
				keyUnfetched := res.epoch > 0 && !jwksDown.start.IsZero() && time.Unix(0, m.published[res.epoch].Load()).After(jwksDown.start.Add(-chaosRefresh)) &&
					(fetchedBy[res.epoch].IsZero() || res.start.Before(fetchedBy[res.epoch].Add(jwksGrace)))
				switch {
				case !k.valid:
					rw.s503++
				case inStore:
					rw.s503++
				case keyUnfetched:
					rw.jwks503++
				default:
					rw.s503++
					failf("%s answered 503 at +%v, outside any declared outage", k.name, res.start.Sub(runStart).Round(time.Millisecond))
				}
			case res.status/100 == 4:
				rw.s4xx++
				if k.valid {
					failf("%s (valid) answered %d at +%v", k.name, res.status, res.start.Sub(runStart).Round(time.Millisecond))
				}
			default:
				rw.other++
				failf("%s answered %d (%s) at +%v", k.name, res.status, res.wrong, res.start.Sub(runStart).Round(time.Millisecond))
			}
		}
	}
	results = nil
	fetches := r.tap.fetches(runStart, runEnd)
	jwksBound := int(dur/chaosRefresh) + 2 + 3 // one per interval, the two rotations, and a few
	gAfter, hAfter := settle(tr)

	// The report.
	var b strings.Builder
	fmt.Fprintf(&b, "\nchaos: %d clients for %v, %d requests (%.0f/s)\n", chaosClients, dur, total, float64(total)/runEnd.Sub(runStart).Seconds())
	fmt.Fprintf(&b, "%-22s %-7s %7s %7s %7s %7s %9s %7s %9s %9s\n", "kind", "valid", "count", "2xx", "4xx", "503", "503 jwks", "other", "p50", "p99")
	for i, k := range chaosKinds {
		rw := rows[i]
		slices.Sort(rw.lat)
		p := func(q float64) time.Duration {
			if len(rw.lat) == 0 {
				return 0
			}
			return rw.lat[min(len(rw.lat)-1, int(q*float64(len(rw.lat))))].Round(10 * time.Microsecond)
		}
		fmt.Fprintf(&b, "%-22s %-7v %7d %7d %7d %7d %9d %7d %9v %9v\n", k.name, k.valid, rw.n, rw.ok, rw.s4xx, rw.s503, rw.jwks503, rw.other, p(0.5), p(0.99))
	}
	b.WriteString("windows (from the start of the run):\n")
	for _, w := range windows {
		fmt.Fprintf(&b, "  %-20s +%-8v .. +%v\n", w.name, w.start.Sub(runStart).Round(10*time.Millisecond), w.end.Sub(runStart).Round(10*time.Millisecond))
	}
	for e := range 3 {
		if p := m.published[e].Load(); p != 0 && e > 0 {
			fmt.Fprintf(&b, "  key %d active at +%v, first fetched by +%v\n", e+1, time.Unix(0, p).Sub(runStart).Round(10*time.Millisecond),
				fetchedBy[e].Sub(runStart).Round(10*time.Millisecond))
		}
	}
	okFetches := 0
	for _, f := range fetches {
		if f.ok {
			okFetches++
		}
	}
	fmt.Fprintf(&b, "JWKS fetches during the run: %d (%d good), bound %d; forged kids sent: %d\n", len(fetches), okFetches, jwksBound, m.forged.Load())
	fmt.Fprintf(&b, "goroutines: %d before, %d after (bound +%d); heap in use: %.1f MiB before, %.1f MiB after (bound +%d MiB)\n",
		gBefore, gAfter, goroutineSlack, float64(hBefore)/(1<<20), float64(hAfter)/(1<<20), heapSlack>>20)
	t.Log(b.String())

	for _, f := range failures {
		t.Error(f)
	}
	if len(fetches) > jwksBound {
		t.Errorf("%d JWKS fetches in %v, more than %d: unknown kids drive fetches", len(fetches), runEnd.Sub(runStart).Round(time.Millisecond), jwksBound)
	}
	if n := m.forged.Load(); n < int64(5*jwksBound) {
		t.Errorf("only %d forged kids sent: too few to show the JWKS bound", n)
	}
	if !recovered {
		t.Errorf("the control plane did not answer every valid kind 2xx within 20 s after the run (last: %s)", lastMiss)
	}
	if gAfter > gBefore+goroutineSlack {
		t.Errorf("goroutines: %d after the run, %d before", gAfter, gBefore)
		t.Log(goroutineDump())
	}
	if hAfter > hBefore+heapSlack {
		t.Errorf("heap in use: %d bytes after the run, %d before", hAfter, hBefore)
	}
	for i, k := range chaosKinds {
		if rows[i].n == 0 {
			t.Errorf("no %s request was sent", k.name)
		}
	}
	for e := 1; e < 3; e++ {
		if m.published[e].Load() == 0 {
			t.Errorf("rotation %d did not happen", e)
		}
	}
}

// wrongIdentity says what is wrong with a 2xx answer to a valid request
// for person user (-1: an API key of acme), or "".
func wrongIdentity(body []byte, user int) string {
	var me api.Whoami
	if err := json.Unmarshal(body, &me); err != nil {
		return "undecodable body: " + err.Error()
	}
	if user < 0 {
		if me.OrgID != "acme" || me.APIKeyID == "" || me.AuthMethod != "api_key" {
			return fmt.Sprintf("%+v for an API key of acme", me)
		}
		return ""
	}
	u := chaosUsers[user]
	if !strings.EqualFold(me.Email, u.email) || me.OrgID != u.org || me.UserID == "" {
		return fmt.Sprintf("%+v for %s of %s", me, u.email, u.org)
	}
	return ""
}

// settle closes the client's idle connections, lets what they held end,
// and measures after a GC: goroutines (but the fault proxies', test
// infrastructure that holds two per pooled connection) and heap in use.
func settle(tr *http.Transport) (goroutines int, heap uint64) {
	tr.CloseIdleConnections()
	var prev int
	for i := range 40 {
		time.Sleep(50 * time.Millisecond)
		runtime.GC()
		n := countGoroutines()
		if i > 4 && n == prev {
			break
		}
		prev = n
	}
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return countGoroutines(), ms.HeapAlloc
}

func goroutineDump() string {
	buf := make([]byte, 4<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

func countGoroutines() int {
	n := 0
	for _, g := range strings.Split(goroutineDump(), "\n\n") {
		if strings.TrimSpace(g) != "" && !strings.Contains(g, "internal/faultproxy") {
			n++
		}
	}
	return n
}

// ---- sign-ins ---------------------------------------------------------------

// signInPath is one way a person signs in: through the mock Clerk's hosted
// sign-in brokering to a persona (start by email), or through the
// organization's own connection (start by organization).
type signInPath struct {
	name, org, domain string
	persona           *mockidp.Persona
	direct            bool
}

type signInResult struct {
	status  int
	me      api.Whoami
	session string // the app session's jti
	err     string
}

// signInOnce signs email in through path in a browser of its own and
// returns whoami and the app session's ID.
func (r *chaosRig) signInOnce(path signInPath, email string) signInResult {
	jar, _ := cookiejar.New(nil)
	hc := r.p.mock.Client()
	hc.Jar = jar
	q := url.Values{"email": {email}, "return_to": {"/v1/auth/whoami"}}
	if path.direct {
		q.Set("org", path.org)
	}
	resp, err := mockidp.Browse(hc, r.p.app.URL+"/auth/sso/start?"+q.Encode())
	if err != nil {
		return signInResult{err: err.Error()}
	}
	body := readAll(resp)
	res := signInResult{status: resp.StatusCode}
	if err := json.Unmarshal([]byte(body), &res.me); err != nil {
		res.err = fmt.Sprintf("%d %.300s", resp.StatusCode, pageText(body))
	}
	u, _ := url.Parse(r.p.app.URL)
	for _, c := range jar.Cookies(u) {
		if parts := strings.Split(c.Value, "."); strings.Contains(c.Name, "session") && len(parts) == 3 {
			var cl struct {
				ID string `json:"jti"`
			}
			if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil && json.Unmarshal(b, &cl) == nil {
				res.session = cl.ID
			}
		}
	}
	return res
}

// TestChaosSignIns: 50 concurrent SSO sign-ins through the mock, over
// SAML and OIDC, through Clerk and through an organization's own
// connection, on PostgreSQL and Redis: once as 50 different people (50
// users, 50 sessions), then on each path one person 50 times at once (one
// user, 50 sessions).
func TestChaosSignIns(t *testing.T) {
	chaosDuration(t)
	r := newChaosRig(t, slog.LevelInfo)
	ctx := context.Background()
	onelogin, _ := initechSAML(t, r.p, "")
	okta := globexOIDC(t, r.p)
	paths := []signInPath{
		{"Clerk, SAML (Okta)", "acme", "acme.test", r.p.mock.Persona("okta"), false},
		{"Clerk, OIDC (Azure AD)", "contoso", "contoso.test", r.p.mock.Persona("azure"), false},
		{"direct, SAML (OneLogin)", "initech", "initech.test", onelogin, true},
		{"direct, OIDC (Okta)", "globex", "globex.test", okta, true},
	}
	users := func(org string) []store.User {
		us, err := r.st.ListUsers(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		return us
	}
	// run signs in n times at once, the i-th as who(i) through paths[via(i)].
	run := func(n int, via func(int) int, who func(int) string) []signInResult {
		out := make([]signInResult, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			p := paths[via(i)]
			if err := p.persona.PutUser(mockidp.UserConfig{Email: who(i), GivenName: "Person", FamilyName: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				<-start
				out[i] = r.signInOnce(p, who(i))
			})
		}
		t0 := time.Now()
		close(start)
		wg.Wait()
		t.Logf("%d concurrent sign-ins in %v", n, time.Since(t0).Round(time.Millisecond))
		return out
	}
	check := func(res []signInResult, via func(int) int, who func(int) string) (sessions map[string]bool) {
		t.Helper()
		sessions = map[string]bool{}
		for i, s := range res {
			p := paths[via(i)]
			if s.status != 200 || s.err != "" || !strings.EqualFold(s.me.Email, who(i)) || s.me.OrgID != p.org || s.me.AuthMethod != "sso" || s.me.UserID == "" {
				t.Errorf("sign-in %d of %s through %s: %d %+v %s", i, who(i), p.name, s.status, s.me, s.err)
			}
			if s.session == "" {
				t.Errorf("sign-in %d of %s through %s: no app session cookie", i, who(i), p.name)
			}
			sessions[s.session] = true
		}
		return sessions
	}

	t.Run("50 people", func(t *testing.T) {
		before := map[string]int{}
		for _, p := range paths {
			before[p.org] = len(users(p.org))
		}
		via := func(i int) int { return i % len(paths) }
		who := func(i int) string { return fmt.Sprintf("person%02d@%s", i, paths[via(i)].domain) }
		res := run(50, via, who)
		if s := check(res, via, who); len(s) != 50 {
			t.Errorf("%d distinct sessions for 50 sign-ins", len(s))
		}
		created := 0
		for _, p := range paths {
			us := users(p.org)
			created += len(us) - before[p.org]
			for i := range 50 {
				if via(i) == paths2index(paths, p) && !slices.ContainsFunc(us, func(u store.User) bool { return strings.EqualFold(u.Email, who(i)) }) {
					t.Errorf("%s is not a user of %s", who(i), p.org)
				}
			}
		}
		if created != 50 {
			t.Errorf("%d users created for 50 people", created)
		}
	})

	// One person 50 times at once, on each path in turn.
	for pi, p := range paths {
		t.Run("one person 50 times, "+p.name, func(t *testing.T) {
			email := "same-person@" + p.domain
			via := func(int) int { return pi }
			who := func(int) string { return email }
			res := run(50, via, who)
			if s := check(res, via, who); len(s) != 50 {
				t.Errorf("%d distinct sessions for 50 sign-ins", len(s))
			}
			var ids []string
			for _, u := range users(p.org) {
				if strings.EqualFold(u.Email, email) {
					ids = append(ids, u.ID)
				}
			}
			if len(ids) != 1 {
				t.Fatalf("%d users for one person: %v", len(ids), ids)
			}
			clerkIDs := map[string]bool{}
			for i, s := range res {
				if s.me.UserID != ids[0] {
					t.Errorf("sign-in %d: user %q, the person is %q", i, s.me.UserID, ids[0])
				}
				clerkIDs[s.me.ClerkUserID] = true
			}
			if len(clerkIDs) != 1 {
				t.Errorf("%d Clerk users for one person: %v", len(clerkIDs), clerkIDs)
			}
		})
	}
}

func paths2index(paths []signInPath, p signInPath) int {
	return slices.IndexFunc(paths, func(q signInPath) bool { return q.name == p.name })
}

var tags = regexp.MustCompile(`(?s)<head>.*</head>|<[^>]*>`)

// pageText is an HTML page's text, for a failure message.
func pageText(body string) string {
	return strings.Join(strings.Fields(tags.ReplaceAllString(body, " ")), " ")
}
