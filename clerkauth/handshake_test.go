package clerkauth

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/clerktest"
	"github.com/ssokit/ssokit/ssoerr"
)

const (
	hsApp   = "https://app.example.com"
	pkLive  = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k" // clerk.example.com$
	pkTest  = "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k"
	hsFAPI  = "https://clerk.example.com"
	hsNonce = "nonce_1"
)

type hsFixture struct {
	fixture
	h   *Handshake
	now time.Time
}

func newHandshake(t *testing.T, pk string, mod func(*HandshakeConfig)) hsFixture {
	t.Helper()
	f := newFixture(t, testKid, nil)
	cfg := HandshakeConfig{Verifier: f.v, PublishableKey: pk, AppURL: hsApp, Now: f.clk.Now}
	if mod != nil {
		mod(&cfg)
	}
	h, err := NewHandshake(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return hsFixture{fixture: f, h: h, now: f.clk.Now()}
}

// session mints a session token issued at iat.
func (f hsFixture) session(t *testing.T, iat time.Time) string {
	c := with(v1Claims(f.now), "iat", iat.Unix(), "nbf", iat.Add(-10*time.Second).Unix(), "exp", iat.Add(time.Minute).Unix())
	return mint(t, f.keys[0], hdr(testKid), c)
}

// payload signs directives as a Frontend API does.
func (f hsFixture) payload(t *testing.T, header map[string]any, directives ...string) string {
	if header == nil {
		header = hdr(testKid)
	}
	return clerktest.Mint(t, f.keys[0], header, map[string]any{"handshake": directives})
}

// page is a browser's page load of path with cookies.
func page(path string, cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, hsApp+path, nil)
	r.Header.Set("Sec-Fetch-Dest", "document")
	r.Header.Set("Accept", "text/html")
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

func ck(name, value string) *http.Cookie { return &http.Cookie{Name: name, Value: value} }

func uat(t time.Time) *http.Cookie { return ck(CookieClientUAT, strconv.FormatInt(t.Unix(), 10)) }

func run(f hsFixture, r *http.Request) (HandshakeResult, *httptest.ResponseRecorder) {
	w := httptest.NewRecorder()
	return f.h.Authenticate(w, r), w
}

func wantStatus(t *testing.T, res HandshakeResult, st HandshakeStatus, reason string) {
	t.Helper()
	if res.Status != st || (reason != "" && res.Reason != reason) {
		t.Fatalf("result = %+v, want status %d reason %q", res, st, reason)
	}
}

// TestHandshakeDecisions covers the SDK's decision steps 5-11 and the
// loop guard on a production instance.
func TestHandshakeDecisions(t *testing.T) {
	t.Parallel()
	f := newHandshake(t, pkLive, nil)
	earlier := f.now.Add(-time.Minute)

	res, _ := run(f, page("/dash"))
	wantStatus(t, res, SignedOut, "session-token-and-uat-missing")

	res, w := run(f, page("/dash?x=1", uat(earlier)))
	wantStatus(t, res, Redirect, "client-uat-but-no-session-token")
	loc, err := url.Parse(res.Location)
	if err != nil || loc.Scheme+"://"+loc.Host != hsFAPI || loc.Path != "/v1/client/handshake" {
		t.Fatalf("Location = %q", res.Location)
	}
	if got := loc.Query().Get("redirect_url"); got != hsApp+"/dash?x=1" {
		t.Errorf("redirect_url = %q", got)
	}
	if loc.Query().Get("__clerk_hs_reason") != "client-uat-but-no-session-token" || loc.Query().Get("__clerk_api_version") == "" {
		t.Errorf("query = %v", loc.Query())
	}
	if c := setCookie(w, CookieRedirectCount); c == nil || c.Value != "1" || !c.HttpOnly || c.MaxAge != 2 {
		t.Errorf("redirect count cookie = %+v", c)
	}
	rw := httptest.NewRecorder()
	res.WriteRedirect(rw)
	if rw.Code != http.StatusTemporaryRedirect || rw.Header().Get("Cache-Control") != "no-store" || rw.Header().Get("Location") != res.Location {
		t.Errorf("redirect = %d %v", rw.Code, rw.Header())
	}

	res, _ = run(f, page("/dash", ck(CookieSession, f.session(t, f.now))))
	wantStatus(t, res, Redirect, "session-token-but-no-client-uat")

	res, w = run(f, page("/dash", uat(earlier), ck(CookieSession, f.session(t, f.now))))
	wantStatus(t, res, SignedIn, "")
	if res.Session.UserID != "user_1" {
		t.Errorf("session = %+v", res.Session)
	}
	if c := setCookie(w, CookieRedirectCount); c != nil {
		t.Errorf("redirect count cookie set without one: %+v", c)
	}
	// A session resolved after handshakes resets the loop guard: the next
	// sign-in in this browser (another person's) starts from zero.
	res, w = run(f, page("/dash", uat(earlier), ck(CookieSession, f.session(t, f.now)), ck(CookieRedirectCount, "2")))
	wantStatus(t, res, SignedIn, "")
	if c := setCookie(w, CookieRedirectCount); c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("redirect count cookie after a session = %+v", c)
	}

	// A sign-in (or sign-out) after the token was minted: the token is stale.
	res, _ = run(f, page("/dash", uat(f.now), ck(CookieSession, f.session(t, earlier))))
	wantStatus(t, res, Redirect, "session-token-iat-before-client-uat")

	expired := f.session(t, f.now.Add(-10*time.Minute))
	res, _ = run(f, page("/dash", uat(f.now.Add(-time.Hour)), ck(CookieSession, expired)))
	wantStatus(t, res, Redirect, "session-token-expired")

	res, _ = run(f, page("/dash", uat(earlier), ck(CookieSession, "garbage")))
	wantStatus(t, res, SignedOut, "session-token-invalid")
	if !errors.Is(res.Err, ssoerr.ErrInvalidToken) {
		t.Errorf("err = %v", res.Err)
	}

	// Loop guard: the third redirect within the cookie's life signs out.
	r := page("/dash", uat(earlier), ck(CookieRedirectCount, "3"))
	res, _ = run(f, r)
	wantStatus(t, res, SignedOut, "handshake-loop")
	res, w = run(f, page("/dash", uat(earlier), ck(CookieRedirectCount, "2")))
	wantStatus(t, res, Redirect, "")
	if c := setCookie(w, CookieRedirectCount); c == nil || c.Value != "3" {
		t.Errorf("redirect count cookie = %+v", c)
	}
}

// TestHandshakeOnlyPageLoads: only GET document navigations are
// redirected; everything else is signed out where a handshake is needed.
func TestHandshakeOnlyPageLoads(t *testing.T) {
	t.Parallel()
	f := newHandshake(t, pkLive, nil)
	earlier := f.now.Add(-time.Minute)
	for name, mod := range map[string]func(*http.Request){
		"POST":            func(r *http.Request) { r.Method = http.MethodPost },
		"HEAD":            func(r *http.Request) { r.Method = http.MethodHead },
		"fetch":           func(r *http.Request) { r.Header.Set("Sec-Fetch-Dest", "empty") },
		"image":           func(r *http.Request) { r.Header.Set("Sec-Fetch-Dest", "image") },
		"no dest, json":   func(r *http.Request) { r.Header.Del("Sec-Fetch-Dest"); r.Header.Set("Accept", "application/json") },
		"no dest, any":    func(r *http.Request) { r.Header.Del("Sec-Fetch-Dest"); r.Header.Set("Accept", "*/*") },
		"no dest, no acc": func(r *http.Request) { r.Header.Del("Sec-Fetch-Dest"); r.Header.Del("Accept") },
	} {
		t.Run(name, func(t *testing.T) {
			r := page("/dash", uat(earlier))
			mod(r)
			res, w := run(f, r)
			if res.Status != SignedOut || res.Location != "" || setCookie(w, CookieRedirectCount) != nil {
				t.Errorf("result = %+v", res)
			}
		})
	}
	r := page("/dash", uat(earlier))
	r.Header.Del("Sec-Fetch-Dest")
	if res, _ := run(f, r); res.Status != Redirect {
		t.Errorf("a page load without Sec-Fetch-Dest and Accept text/html = %+v", res)
	}
}

// TestHandshakeReturnURL: the URL the handshake returns to is built on the
// configured origin, never on Host or X-Forwarded-*, and loses the
// handshake's own parameters.
func TestHandshakeReturnURL(t *testing.T) {
	t.Parallel()
	f := newHandshake(t, pkTest, nil)
	r := page("/auth/sso/callback?state=abc&__clerk_db_jwt=db_1&__clerk_handshake=x&__dev_session=y")
	r.Host = "evil.example"
	r.Header.Set("X-Forwarded-Host", "evil.example")
	r.Header.Set("X-Forwarded-Proto", "http")
	// The payload in the query fails verification, so the request signs
	// out; without it the dev browser is synchronized.
	q := r.URL.Query()
	q.Del("__clerk_handshake")
	r.URL.RawQuery = q.Encode()
	res, _ := run(f, r)
	wantStatus(t, res, Redirect, "dev-browser-sync")
	loc, _ := url.Parse(res.Location)
	if got := loc.Query().Get("redirect_url"); got != hsApp+"/auth/sso/callback?state=abc" {
		t.Errorf("redirect_url = %q", got)
	}
	if loc.Query().Get(CookieDevBrowser) != "db_1" {
		t.Errorf("the dev browser does not travel to the Frontend API: %v", loc.Query())
	}
	if got := CleanURL(page("/a?x=1&__clerk_handshake=t&__clerk_handshake_nonce=n&__clerk_db_jwt=d")); got != "/a?x=1" {
		t.Errorf("CleanURL = %q", got)
	}
	res, _ = run(f, page("/dash", uat(f.now)))
	wantStatus(t, res, Redirect, "dev-browser-missing")
}

// TestHandshakePayload: a verified payload's directives are applied (only
// Clerk's own cookie names, only for this site) and its session token goes
// through the strict verifier.
func TestHandshakePayload(t *testing.T) {
	t.Parallel()
	f := newHandshake(t, pkLive, nil)
	tok := f.session(t, f.now)
	good := f.payload(t, nil,
		"__clerk_handshake=; Path=/; Domain=example.com; Max-Age=0; Secure; SameSite=Lax",
		"__client_uat="+strconv.FormatInt(f.now.Unix(), 10)+"; Path=/; Domain=example.com; Max-Age=315360000; Secure; SameSite=Lax",
		"app_session=attacker; Path=/; HttpOnly",      // not Clerk's
		"__session_deadbeef=x; Path=/",                // another instance's suffix
		"__client_uat=1; Path=/; Domain=evil.example", // not this site
		"__session="+tok+"; Path=/; Secure; SameSite=Lax",
	)
	res, w := run(f, page("/auth/sso/callback", ck(CookieHandshake, good)))
	wantStatus(t, res, SignedIn, "handshake")
	var names []string
	for _, c := range w.Result().Cookies() {
		names = append(names, c.Name+"@"+c.Domain)
	}
	if strings.Join(names, ",") != "__clerk_handshake@example.com,__client_uat@example.com,__session@" {
		t.Errorf("applied directives = %v", names)
	}

	signedOut := f.payload(t, nil, "__session=; Path=/; Max-Age=0", "__client_uat=0; Path=/; Max-Age=315360000")
	res, w = run(f, page("/", ck(CookieHandshake, signedOut)))
	wantStatus(t, res, SignedOut, "handshake-signed-out")
	if c := setCookie(w, CookieClientUAT); c == nil || c.Value != "0" {
		t.Errorf("signed-out directives not applied: %v", w.Header())
	}
	// A directive that deletes the session cookie is signed out, whatever
	// value it carries (a valid token with Max-Age=0, or Expires passed).
	for _, d := range []string{"__session=" + tok + "; Path=/; Max-Age=0", "__session=" + tok + "; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"} {
		res, _ = run(f, page("/", ck(CookieHandshake, f.payload(t, nil, d))))
		wantStatus(t, res, SignedOut, "handshake-signed-out")
	}
}

// TestHandshakePayloadRefusals: each kind of bad payload is refused for
// its own reason.
func TestHandshakePayloadRefusals(t *testing.T) {
	t.Parallel()
	f := newHandshake(t, pkLive, nil)
	tok := f.session(t, f.now)
	sessionDirective := "__session=" + tok + "; Path=/"
	other := testKeys()[1]
	wrongIss := mint(t, f.keys[0], hdr(testKid), with(v1Claims(f.now), "iss", "https://clerk.evil.example"))
	pending := mint(t, f.keys[0], hdr(testKid), with(v1Claims(f.now), "sts", "pending"))
	many := make([]string, 17)
	for i := range many {
		many[i] = "__client_uat=1"
	}
	cases := map[string]struct {
		tok    string
		reason ssoerr.Reason
	}{
		"template cat":       {f.payload(t, with(hdr(testKid), "cat", "cl_B7d4PD222AAA"), sessionDirective), ReasonHandshakeCategory},
		"machine cat":        {f.payload(t, with(hdr(testKid), "cat", "cl_M7d4PD111AAA"), sessionDirective), ReasonHandshakeCategory},
		"typ JOSE":           {f.payload(t, with(hdr(testKid), "typ", "at+jwt"), sessionDirective), ssoerr.ReasonType},
		"alg none":           {unsigned(t, with(hdr(testKid), "alg", "none"), sessionDirective), ssoerr.ReasonAlgorithm},
		"alg HS256":          {unsigned(t, with(hdr(testKid), "alg", "HS256"), sessionDirective), ssoerr.ReasonAlgorithm},
		"other key":          {clerktest.Mint(t, other, hdr(testKid), map[string]any{"handshake": []string{sessionDirective}}), ssoerr.ReasonSignature},
		"no kid":             {f.payload(t, with(hdr(testKid), "kid", nil), sessionDirective), ssoerr.ReasonMissingKeyID},
		"duplicate member":   {rawPayload(t, f.keys[0], `{"handshake":["__client_uat=1"],"handshake":["`+sessionDirective+`"]}`), ssoerr.ReasonMalformed},
		"handshake null":     {rawPayload(t, f.keys[0], `{"handshake":null}`), ssoerr.ReasonMalformed},
		"too many":           {f.payload(t, nil, many...), ReasonHandshakeDirectives},
		"not a JWS":          {"a.b", ssoerr.ReasonMalformed},
		"oversized":          {strings.Repeat("a", 40<<10), ssoerr.ReasonTooLarge},
		"wrong issuer":       {f.payload(t, nil, "__session="+wrongIss), ssoerr.ReasonIssuer},
		"pending session":    {f.payload(t, nil, "__session="+pending), ssoerr.ReasonSessionPending},
		"crit":               {f.payload(t, with(hdr(testKid), "crit", []string{"b64"}), sessionDirective), ssoerr.ReasonCritical},
		"tampered directive": {tamper(f.payload(t, nil, sessionDirective)), ssoerr.ReasonSignature},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			res, w := run(f, page("/", ck(CookieHandshake, c.tok)))
			if res.Status != SignedOut || ssoerr.ReasonOf(res.Err) != c.reason {
				t.Fatalf("result = %+v (reason %q), want signed out for %q", res, ssoerr.ReasonOf(res.Err), c.reason)
			}
			if name != "wrong issuer" && name != "pending session" && len(w.Result().Cookies()) != 0 {
				t.Errorf("a refused payload set cookies: %v", w.Header())
			}
		})
	}
}

// TestHandshakeProductionRefusesQuery: a production instance's payload and
// nonce travel only in cookies; in the query they are refused, even when
// validly signed. A development instance takes them from the query.
func TestHandshakeProductionRefusesQuery(t *testing.T) {
	t.Parallel()
	live := newHandshake(t, pkLive, nil)
	good := live.payload(t, nil, "__session="+live.session(t, live.now)+"; Path=/")
	for _, p := range []string{"__clerk_handshake=" + good, "__clerk_handshake_nonce=" + hsNonce} {
		res, _ := run(live, page("/auth/sso/callback?state=s&"+p))
		if res.Status != SignedOut || ssoerr.ReasonOf(res.Err) != ReasonHandshakeInQuery {
			t.Errorf("%s: %+v", p[:24], res)
		}
	}
	dev := newHandshake(t, pkTest, nil)
	good = dev.payload(t, nil, "__session="+dev.session(t, dev.now)+"; Path=/", "__clerk_db_jwt=db_1; Path=/")
	res, _ := run(dev, page("/auth/sso/callback?state=s&__clerk_handshake="+good))
	wantStatus(t, res, SignedIn, "handshake")
}

// TestHandshakeDuplicateCookies: a credential or handshake cookie sent
// twice (a sibling subdomain tossed one with a wider Domain) signs out.
func TestHandshakeDuplicateCookies(t *testing.T) {
	t.Parallel()
	f := newHandshake(t, pkLive, nil)
	tok := f.session(t, f.now)
	good := f.payload(t, nil, "__session="+tok+"; Path=/")
	for _, name := range []string{CookieSession, CookieClientUAT, CookieHandshake, CookieHandshakeNonce, CookieDevBrowser, CookieRedirectCount} {
		r := page("/", uat(f.now.Add(-time.Minute)), ck(CookieSession, tok))
		if name != CookieSession && name != CookieClientUAT {
			r.AddCookie(ck(name, good))
		}
		r.AddCookie(ck(name, good))
		res, _ := run(f, r)
		if res.Status != SignedOut || ssoerr.ReasonOf(res.Err) != ssoerr.ReasonAmbiguous {
			t.Errorf("%s twice: %+v", name, res)
		}
	}
}

// TestHandshakeNonce: the nonce variant fetches the directives from the
// Backend API with the secret key; a refused or failing fetch signs out
// (an outage as ErrUpstream).
func TestHandshakeNonce(t *testing.T) {
	t.Parallel()
	var status int
	var sessionDirective string
	bapi := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/clients/handshake_payload" || r.Header.Get("Authorization") != "Bearer sk_live_x" || r.URL.Query().Get("nonce") != hsNonce {
			http.Error(w, `{"errors":[{"code":"resource_not_found"}]}`, http.StatusNotFound)
			return
		}
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"directives": []string{sessionDirective}})
	}))
	t.Cleanup(bapi.Close)
	f := newHandshake(t, pkLive, func(c *HandshakeConfig) {
		c.SecretKey, c.APIURL, c.InsecureHTTPLoopback, c.HTTPClient = "sk_live_x", bapi.URL+"/v1", true, bapi.Client()
	})
	sessionDirective = "__session=" + f.session(t, f.now) + "; Path=/"
	res, _ := run(f, page("/", ck(CookieHandshakeNonce, hsNonce)))
	wantStatus(t, res, SignedIn, "handshake")
	res, _ = run(f, page("/", ck(CookieHandshakeNonce, "unknown")))
	if res.Status != SignedOut || ssoerr.ReasonOf(res.Err) != ssoerr.ReasonMalformed {
		t.Errorf("unknown nonce: %+v", res)
	}
	// A nonce longer than any Clerk writes is refused unsent.
	status = http.StatusTeapot // the Backend API would answer it so
	res, _ = run(f, page("/", ck(CookieHandshakeNonce, strings.Repeat("n", 300))))
	if res.Status != SignedOut || ssoerr.ReasonOf(res.Err) != ssoerr.ReasonTooLarge {
		t.Errorf("a 300-byte nonce: %+v", res)
	}
	status = 0
	status = http.StatusBadGateway
	res, _ = run(f, page("/", ck(CookieHandshakeNonce, hsNonce)))
	if res.Status != SignedOut || !errors.Is(res.Err, ssoerr.ErrUpstream) {
		t.Errorf("Backend API outage: %+v", res)
	}
	// The redirect asks for the nonce format only when it can fetch one.
	res, _ = run(f, page("/", uat(f.now)))
	if u, _ := url.Parse(res.Location); u == nil || u.Query().Get("format") != "nonce" {
		t.Errorf("Location = %q", res.Location)
	}
	plain := newHandshake(t, pkLive, nil)
	res, _ = run(plain, page("/", ck(CookieHandshakeNonce, hsNonce)))
	if res.Status != SignedOut || res.Err == nil {
		t.Errorf("a nonce without a secret key: %+v", res)
	}
}

func TestNewHandshakeConfig(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testKid, nil)
	for name, cfg := range map[string]HandshakeConfig{
		"no verifier":     {PublishableKey: pkLive, AppURL: hsApp},
		"bad key":         {Verifier: f.v, PublishableKey: "pk_x", AppURL: hsApp},
		"no app":          {Verifier: f.v, PublishableKey: pkLive},
		"app with path":   {Verifier: f.v, PublishableKey: pkLive, AppURL: hsApp + "/x"},
		"app with query":  {Verifier: f.v, PublishableKey: pkLive, AppURL: hsApp + "?x"},
		"app not http":    {Verifier: f.v, PublishableKey: pkLive, AppURL: "javascript:alert(1)"},
		"http secret api": {Verifier: f.v, PublishableKey: pkLive, AppURL: hsApp, SecretKey: "sk", APIURL: "http://api.clerk.com/v1"},
	} {
		if _, err := NewHandshake(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func setCookie(w *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func unsigned(t *testing.T, header map[string]any, directives ...string) string {
	return seg(t, header) + "." + seg(t, map[string]any{"handshake": directives}) + ".c2ln"
}

func rawPayload(t *testing.T, k *rsa.PrivateKey, payload string) string {
	return mintRaw(t, k, `{"alg":"RS256","kid":"`+testKid+`","typ":"JWT"}`, payload)
}

// tamper swaps the payload for another with the same signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"handshake":["__session=forged; Path=/"]}`))
	return strings.Join(parts, ".")
}
