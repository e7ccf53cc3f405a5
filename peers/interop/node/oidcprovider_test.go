// oidc-provider 9.13.3 (panva's OpenID Certified authorization server),
// run by Node.js from interop/node/oidc-op.mjs, as the OpenID provider of
// ssokit's relying party: a generic OIDC connection of package idp signs
// in through it with the code flow, and refuses what it must.
package node_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/peers/internal/childproc"
	"github.com/ssokit/ssokit/sso"
)

// oidcOPMarker starts each of oidc-op.mjs's answers: oidc-provider prints
// its notices to stdout.
const oidcOPMarker = "@@oidc-op "

// opSecret is every client's secret. Its spaces, colon, ampersand, plus,
// slash, equals and percent sign must be form-encoded in
// client_secret_basic's Authorization header and in client_secret_post's
// body (RFC 6749 section 2.3.1 and appendix B), as oidc-provider decodes
// them; it is long enough to be an HS256 key.
const opSecret = "s3cret: & +/=%~ of ssokit at oidc-provider"

// opClient is a client registered with oidc-provider, as its metadata.
type opClient struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	RedirectURIs []string `json:"redirect_uris"`
	AuthMethod   string   `json:"token_endpoint_auth_method"`
	IDTokenAlg   string   `json:"id_token_signed_response_alg"`
	UserinfoAlg  string   `json:"userinfo_signed_response_alg,omitempty"`
}

// newOPClient is a confidential client whose only redirect URI is the
// connections' callback URL. No server listens there: the test's browser
// stops at the redirect to it and hands that request to Finish.
func newOPClient(id, authMethod, alg string) opClient {
	return opClient{ClientID: id, ClientSecret: opSecret, RedirectURIs: []string{loopbackRedirect}, AuthMethod: authMethod, IDTokenAlg: alg}
}

// The accounts of oidc-provider, by subject. Their claims are released by
// scope (openid, email, profile, groups); with the code flow oidc-provider
// puts only sub and the protocol claims in the ID token and the rest in
// userinfo (OIDC Core 5.4), which ssokit then reads.
const (
	opAlice = "alice-7f3c"        // verified email, groups
	opBob   = "bob-51d0"          // email_verified false
	opCarol = "carol-e29a"        // no email_verified claim at all
	opHint  = "alice@example.com" // the login hint Start passes
)

var opAccounts = map[string]map[string]any{
	opAlice: {"email": "alice@example.com", "email_verified": true, "name": "Alice Liddell",
		"given_name": "Alice", "family_name": "Liddell", "groups": []string{"engineering", "sso-admins"}},
	opBob: {"email": "bob@example.com", "email_verified": false, "name": "Bob Stone",
		"given_name": "Bob", "family_name": "Stone", "groups": []string{"engineering"}},
	opCarol: {"email": "carol@example.com", "name": "Carol Reed", "given_name": "Carol", "family_name": "Reed"},
}

// oidcOP is oidc-op.mjs with its provider listening.
type oidcOP struct {
	proc     *childproc.Proc
	issuer   string
	stateKey []byte
}

// startOIDCOP starts oidc-op.mjs with clients registered, once node and
// the npm packages of interop/node are there (else the test is skipped,
// or fails under CI). With slash, the issuer ends with "/".
func startOIDCOP(t *testing.T, clients []opClient, slash bool) *oidcOP {
	t.Helper()
	node := testenv.LookPath(t, "node", installNode)
	dir := testenv.NodeModules(t)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider")); err != nil {
		testenv.Missing(t, "oidc-provider in interop/node", "run `npm ci --prefix interop/node` (scripts/test.sh does)")
	}
	proc := childproc.Start(t, childproc.Config{Name: "oidc-op.mjs", Path: node, Args: []string{"oidc-op.mjs"},
		Dir: dir, Marker: oidcOPMarker, Timeout: 2 * time.Minute})
	var ready struct {
		Issuer string `json:"issuer"`
	}
	if err := proc.Call(map[string]any{"op": "start", "clients": clients, "accounts": opAccounts, "trailing_slash": slash}, &ready); err != nil {
		t.Fatal(err)
	}
	path := ""
	if slash {
		path = "/"
	}
	u, err := url.Parse(ready.Issuer)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Path != path {
		t.Fatalf("oidc-op.mjs answered the issuer %q", ready.Issuer)
	}
	key := make([]byte, 32)
	rand.Read(key)
	return &oidcOP{proc: proc, issuer: ready.Issuer, stateKey: key}
}

// queue has the next sign-in of client be account's, granting consent or
// refusing it.
func (op *oidcOP) queue(t *testing.T, client opClient, account string, consent bool) {
	t.Helper()
	var r struct {
		Queued int `json:"queued"`
	}
	if err := op.proc.Call(map[string]any{"op": "queue", "client_id": client.ClientID, "account": account, "consent": consent}, &r); err != nil {
		t.Fatal(err)
	}
	if r.Queued != 1 {
		t.Fatalf("%d sign-ins are queued for %s, want this one only", r.Queued, client.ClientID)
	}
}

// wantEvents checks what oidc-provider did for client since the last
// call, each event written as interaction:PROMPT hint=LOGIN_HINT,
// id_token:ALG via CLIENT_AUTH_METHOD, userinfo:MEDIA_TYPE, or
// EVENT:ERROR (DETAIL) for a refusal.
func (op *oidcOP) wantEvents(t *testing.T, client opClient, want ...string) {
	t.Helper()
	var r struct {
		Events []struct {
			Event       string `json:"event"`
			Prompt      string `json:"prompt"`
			LoginHint   string `json:"login_hint"`
			Alg         string `json:"alg"`
			Kid         string `json:"kid"`
			Auth        string `json:"auth"`
			Type        string `json:"type"`
			Error       string `json:"error"`
			ErrorDetail string `json:"error_detail"`
		} `json:"events"`
	}
	if err := op.proc.Call(map[string]any{"op": "events", "client_id": client.ClientID}, &r); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, e := range r.Events {
		switch e.Event {
		case "interaction":
			got = append(got, "interaction:"+e.Prompt+" hint="+e.LoginHint)
		case "id_token":
			got = append(got, "id_token:"+e.Alg+" via "+e.Auth)
			if e.Kid == "" && !strings.HasPrefix(e.Alg, "HS") {
				t.Errorf("oidc-provider signed an %s ID token without a kid", e.Alg)
			}
		case "userinfo":
			got = append(got, "userinfo:"+e.Type)
		default:
			got = append(got, fmt.Sprintf("%s:%s (%s)", e.Event, e.Error, e.ErrorDetail))
		}
	}
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("oidc-provider's events for %s:\n got %q\nwant %q", client.ClientID, got, want)
	}
}

// opRedeemed are the events of a sign-in whose code client redeemed,
// with its registered authentication method, for an ID token signed with
// its registered algorithm.
func opRedeemed(client opClient) []string {
	return []string{"interaction:login hint=" + opHint, "interaction:consent hint=" + opHint,
		"id_token:" + client.IDTokenAlg + " via " + client.AuthMethod}
}

// opSignedIn are the events of a sign-in that went as far as userinfo,
// which ssokit reads for the claims the ID token lacks: JSON, or a JWT
// for a client registered for signed userinfo.
func opSignedIn(client opClient) []string {
	media := "application/json"
	if client.UserinfoAlg != "" {
		media = "application/jwt"
	}
	return append(opRedeemed(client), "userinfo:"+media)
}

// connection is ssokit's generic OIDC connection to client, with secret.
func (op *oidcOP) connection(client opClient, secret string) idp.Connection {
	return idp.Connection{
		ID: "op-" + client.ClientID, Protocol: sso.OIDC, Vendor: sso.Generic,
		Attributes: map[string]string{"email": "email"},
		OIDC: &idp.OIDCSettings{Issuer: op.issuer, ClientID: client.ClientID, ClientSecret: secret,
			RedirectURL: loopbackRedirect, Scopes: []string{"openid", "profile", "email", "groups"},
			TokenEndpointAuthMethod: client.AuthMethod},
	}
}

// options are the connections' idp.Options: oidc-provider listens on
// plain http on loopback.
func (op *oidcOP) options() idp.Options {
	return idp.Options{InsecureAllowLoopback: true, StateKey: op.stateKey}
}

// connect builds the connection with idp.New: discovery, from
// oidc-provider's issuer. A failure shows what the connector logged (the
// status or network error behind "discovery fetch failed").
func (op *oidcOP) connect(t *testing.T, client opClient, secret string) idp.Connector {
	t.Helper()
	var log testenv.LogBuffer
	opts := op.options()
	opts.Logger = slog.New(slog.NewTextHandler(&log, nil))
	conn, err := idp.New(context.Background(), op.connection(client, secret), opts)
	if err != nil {
		t.Fatalf("%v\nthe connector's log:\n%s", err, log.String())
	}
	return conn
}

// opLogin is one sign-in: the authorization request Start sent the
// browser to, the state cookies Start set, and the redirect back to the
// callback URL that oidc-provider answered with.
type opLogin struct {
	authURL  string
	auth     url.Values
	cookies  []*http.Cookie
	callback string
}

// opStart runs conn.Start on a recorded request (returning to /dashboard,
// with the login hint).
func opStart(t *testing.T, conn idp.Connector, issuer string) opLogin {
	t.Helper()
	w := httptest.NewRecorder()
	if err := conn.Start(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:18080/login", nil), "/dashboard", opHint); err != nil {
		t.Fatal(err)
	}
	res := w.Result()
	loc, err := res.Location()
	if res.StatusCode != http.StatusFound || err != nil || loc.Scheme+"://"+loc.Host+loc.Path != strings.TrimSuffix(issuer, "/")+"/auth" {
		t.Fatalf("Start answered %d to %v (%v), not a redirect to %s/auth", res.StatusCode, loc, err, issuer)
	}
	return opLogin{authURL: loc.String(), auth: loc.Query(), cookies: res.Cookies()}
}

// opIsCallback reports whether u is the connections' callback URL.
func opIsCallback(u *url.URL) bool {
	return u.Scheme+"://"+u.Host+u.Path == loopbackRedirect
}

// signIn starts a sign-in and follows it through oidc-provider in a new
// browser (its own cookie jar, at most 10 redirects) as far as the
// redirect back to the callback URL.
func (op *oidcOP) signIn(t *testing.T, conn idp.Connector) opLogin {
	t.Helper()
	l := opStart(t, conn, op.issuer)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if opIsCallback(req.URL) {
			return http.ErrUseLastResponse
		}
		if len(via) >= 10 {
			return errors.New("more than 10 redirects")
		}
		return nil
	}}
	resp, err := browser.Get(l.authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || err != nil || !opIsCallback(loc) {
		t.Fatalf("oidc-provider ended the sign-in at %s with %d, not a redirect to the callback: %.500s", resp.Request.URL, resp.StatusCode, body)
	}
	l.callback = loc.String()
	return l
}

// opFinish hands the callback request to conn.Finish with cookies in it.
func opFinish(conn idp.Connector, callback string, cookies []*http.Cookie) (*idp.Identity, string, error) {
	r := httptest.NewRequest(http.MethodGet, callback, nil)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return conn.Finish(httptest.NewRecorder(), r)
}

// opWantRefusal checks that err is a *idp.LoginError wrapping sentinel,
// with reason, vouched as said, and a Detail that contains detail.
func opWantRefusal(t *testing.T, err error, sentinel error, reason string, vouched bool, detail string) {
	t.Helper()
	var le *idp.LoginError
	if !errors.As(err, &le) || !errors.Is(err, sentinel) || le.Reason != reason || le.Vouched != vouched || !strings.Contains(le.Detail, detail) {
		t.Fatalf("Finish: %v (vouched %v); want %v (%s), vouched %v, with %q", err, idp.Vouched(err), sentinel, reason, vouched, detail)
	}
}

// TestOIDCProviderInterop signs in with ssokit's relying party through
// oidc-provider: discovery from its issuer, Start, oidc-provider's
// authorization endpoint (PKCE required of every client) and a sign-in
// with consent, then Finish on the callback: the code redeemed at its
// token endpoint (client_secret_basic and _post), the ID token verified
// (RS256, ES256, PS256) and userinfo read (as JSON, or as a signed JWT)
// for the claims oidc-provider keeps out of it. Then what ssokit must
// refuse, each with its reason.
func TestOIDCProviderInterop(t *testing.T) {
	t.Parallel()
	var (
		// Its colons and plus sign are form-encoded in the Basic
		// credentials too.
		basicRS256 = newOPClient("urn:ssokit:basic+rs256", "client_secret_basic", "RS256")
		postES256  = newOPClient("rp-post-es256", "client_secret_post", "ES256")
		basicPS256 = newOPClient("rp-basic-ps256", "client_secret_basic", "PS256")
		signedUI   = newOPClient("rp-signed-userinfo", "client_secret_basic", "RS256")
		wrongSec   = newOPClient("rp-wrong-secret", "client_secret_basic", "RS256")
		replay     = newOPClient("rp-replay", "client_secret_basic", "RS256")
		state      = newOPClient("rp-state", "client_secret_post", "RS256")
		hs256      = newOPClient("rp-hs256", "client_secret_basic", "HS256")
		eddsa      = newOPClient("rp-eddsa", "client_secret_basic", "EdDSA")
		unverified = newOPClient("rp-unverified", "client_secret_basic", "RS256")
		noVerified = newOPClient("rp-no-email-verified", "client_secret_basic", "RS256")
		denied     = newOPClient("rp-denied", "client_secret_basic", "RS256")
	)
	signedUI.UserinfoAlg = "RS256"
	op := startOIDCOP(t, []opClient{basicRS256, postES256, basicPS256, signedUI, wrongSec, replay, state, hs256, eddsa, unverified, noVerified, denied}, false)

	// Each subtest has a client of its own: oidc-provider's queue and
	// events are per client, so they run in parallel.
	for _, c := range []opClient{basicRS256, postES256, basicPS256, signedUI} {
		t.Run("sign-in/"+c.ClientID, func(t *testing.T) {
			t.Parallel()
			conn := op.connect(t, c, opSecret)
			op.queue(t, c, opAlice, true)
			l := op.signIn(t, conn)
			opWantAliceRequest(t, op, c, l)
			id, returnTo, err := opFinish(conn, l.callback, l.cookies)
			if err != nil {
				t.Fatalf("Finish: %v", err)
			}
			opWantAlice(t, op, c, l, id)
			if returnTo != "/dashboard" {
				t.Errorf("return to %q", returnTo)
			}
			op.wantEvents(t, c, opSignedIn(c)...)
		})
	}

	// An issuer written with a trailing slash, as Auth0's are: discovery
	// at {issuer without the slash}/.well-known/openid-configuration
	// (OpenID Connect Discovery 4), and the issuer compared exactly,
	// slash and all, in the discovery document and the ID token.
	t.Run("sign-in/issuer with a trailing slash", func(t *testing.T) {
		t.Parallel()
		c := newOPClient("rp-slash", "client_secret_basic", "RS256")
		op := startOIDCOP(t, []opClient{c}, true)
		conn := op.connect(t, c, opSecret)
		op.queue(t, c, opAlice, true)
		l := op.signIn(t, conn)
		opWantAliceRequest(t, op, c, l)
		id, _, err := opFinish(conn, l.callback, l.cookies)
		if err != nil {
			t.Fatalf("Finish: %v", err)
		}
		opWantAlice(t, op, c, l, id)
		op.wantEvents(t, c, opSignedIn(c)...)
	})

	// A wrong client secret: oidc-provider's token endpoint answers
	// invalid_client, and ssokit refuses the code it could not redeem.
	// CheckConnection's client credentials step says the same, and passes
	// with the right secret.
	t.Run("wrong client secret", func(t *testing.T) {
		t.Parallel()
		conn := op.connect(t, wrongSec, opSecret+"!")
		op.queue(t, wrongSec, opAlice, true)
		l := op.signIn(t, conn)
		_, _, err := opFinish(conn, l.callback, l.cookies)
		opWantRefusal(t, err, idp.ErrInvalidResponse, idp.ReasonCode, false, "invalid_client")
		op.wantEvents(t, wrongSec, "interaction:login hint="+opHint, "interaction:consent hint="+opHint,
			"grant.error:invalid_client (invalid secret provided)")

		steps := func(rep idp.CheckReport) []string {
			var out []string
			for _, s := range rep.Steps {
				out = append(out, fmt.Sprintf("%s=%v", s.Name, s.OK))
			}
			return out
		}
		rep := idp.CheckConnection(context.Background(), op.connection(wrongSec, opSecret+"!"), op.options())
		if got := steps(rep); rep.OK || !slices.Equal(got, []string{"discovery=true", "signing keys=true", "client credentials=false"}) ||
			!strings.Contains(rep.Steps[2].Detail, "(invalid_client)") {
			t.Errorf("CheckConnection with a wrong secret: %+v", rep)
		}
		rep = idp.CheckConnection(context.Background(), op.connection(wrongSec, opSecret), op.options())
		if got := steps(rep); !rep.OK || !slices.Equal(got, []string{"discovery=true", "signing keys=true", "client credentials=true"}) {
			t.Errorf("CheckConnection with the right secret: %+v", rep)
		}
		// The probe's made-up code, with the wrong and then the right secret.
		op.wantEvents(t, wrongSec, "grant.error:invalid_client (invalid secret provided)",
			"grant.error:invalid_grant (authorization code not found)")
	})

	// The callback replayed, state cookie and all: ssokit redeems the code
	// again, oidc-provider refuses it (and revokes what it issued for it),
	// and so does ssokit.
	t.Run("code replayed", func(t *testing.T) {
		t.Parallel()
		conn := op.connect(t, replay, opSecret)
		op.queue(t, replay, opAlice, true)
		l := op.signIn(t, conn)
		if id, _, err := opFinish(conn, l.callback, l.cookies); err != nil || id.Subject != opAlice {
			t.Fatalf("Finish: %+v, %v", id, err)
		}
		_, _, err := opFinish(conn, l.callback, l.cookies)
		opWantRefusal(t, err, idp.ErrInvalidResponse, idp.ReasonCode, false, "invalid_grant")
		op.wantEvents(t, replay, append(opSignedIn(replay), "grant.error:invalid_grant (authorization code already consumed)")...)
	})

	// The callback in another browser: one without Start's state cookie,
	// then one with a sign-in of its own in flight. Both are refused
	// before the code is sent anywhere, so the browser that started the
	// sign-in still finishes it with the same code.
	t.Run("state from another browser", func(t *testing.T) {
		t.Parallel()
		conn := op.connect(t, state, opSecret)
		op.queue(t, state, opAlice, true)
		l := op.signIn(t, conn)
		_, _, err := opFinish(conn, l.callback, nil)
		opWantRefusal(t, err, idp.ErrNoLogin, idp.ReasonState, false, "no login of this browser")
		other := opStart(t, conn, op.issuer)
		if other.auth.Get("state") == l.auth.Get("state") {
			t.Fatal("two sign-ins have the same state")
		}
		_, _, err = opFinish(conn, l.callback, other.cookies)
		opWantRefusal(t, err, idp.ErrNoLogin, idp.ReasonState, false, "no login of this browser")
		id, _, err := opFinish(conn, l.callback, l.cookies)
		if err != nil || id.Subject != opAlice || id.Email != "alice@example.com" {
			t.Fatalf("Finish in the browser that started the sign-in: %+v, %v", id, err)
		}
		op.wantEvents(t, state, opSignedIn(state)...)
	})

	// ID tokens signed with an algorithm ssokit does not accept, though
	// oidc-provider signs them as the client is registered: HS256 with the
	// client secret, EdDSA with an Ed25519 key of its JWKS. The code was
	// redeemed, so the refusal is vouched for.
	for _, c := range []opClient{hs256, eddsa} {
		t.Run("ID token signed with "+c.IDTokenAlg, func(t *testing.T) {
			t.Parallel()
			conn := op.connect(t, c, opSecret)
			op.queue(t, c, opAlice, true)
			l := op.signIn(t, conn)
			_, _, err := opFinish(conn, l.callback, l.cookies)
			opWantRefusal(t, err, idp.ErrInvalidResponse, idp.ReasonAlgorithm, true, `unexpected signature algorithm "`+c.IDTokenAlg+`"`)
			op.wantEvents(t, c, opRedeemed(c)...)
		})
	}

	// The generic profile holds an OIDC provider to email_verified: false
	// is refused, and so is an identity without the claim.
	t.Run("email_verified false", func(t *testing.T) {
		t.Parallel()
		conn := op.connect(t, unverified, opSecret)
		op.queue(t, unverified, opBob, true)
		l := op.signIn(t, conn)
		_, _, err := opFinish(conn, l.callback, l.cookies)
		opWantRefusal(t, err, idp.ErrNotAllowed, idp.ReasonEmailUnverified, true, "email_verified is false for bob@example.com")
		op.wantEvents(t, unverified, opSignedIn(unverified)...)
	})
	t.Run("email_verified missing", func(t *testing.T) {
		t.Parallel()
		conn := op.connect(t, noVerified, opSecret)
		op.queue(t, noVerified, opCarol, true)
		l := op.signIn(t, conn)
		_, _, err := opFinish(conn, l.callback, l.cookies)
		opWantRefusal(t, err, idp.ErrNotAllowed, idp.ReasonEmailVerifiedNone, true, "the generic identity carries no email_verified claim")
		op.wantEvents(t, noVerified, opSignedIn(noVerified)...)
	})

	// The person signs in and refuses consent: oidc-provider redirects
	// back with error=access_denied (and the state), which ssokit reports
	// as the IdP's refusal without redeeming anything.
	t.Run("consent denied", func(t *testing.T) {
		t.Parallel()
		conn := op.connect(t, denied, opSecret)
		op.queue(t, denied, opAlice, false)
		l := op.signIn(t, conn)
		cb, _ := url.Parse(l.callback)
		if q := cb.Query(); q.Get("error") != "access_denied" || q.Get("state") != l.auth.Get("state") || q.Has("code") {
			t.Fatalf("oidc-provider's answer to a refusal: %s", l.callback)
		}
		_, _, err := opFinish(conn, l.callback, l.cookies)
		opWantRefusal(t, err, idp.ErrIdPRefused, idp.ReasonIdPError, false, "access_denied: the end-user refused the request")
		op.wantEvents(t, denied, "interaction:login hint="+opHint, "interaction:consent hint="+opHint,
			"authorization.error:access_denied ()")
	})
}

// opWantAliceRequest checks the authorization request ssokit made and
// oidc-provider's answer to it: the code flow with PKCE S256, a nonce and
// a state, the scopes and the login hint; the code, the state, and the
// issuer (RFC 9207) back.
func opWantAliceRequest(t *testing.T, op *oidcOP, c opClient, l opLogin) {
	t.Helper()
	a := l.auth
	if a.Get("response_type") != "code" || a.Get("client_id") != c.ClientID || a.Get("redirect_uri") != loopbackRedirect ||
		a.Get("scope") != "openid profile email groups" || a.Get("login_hint") != opHint ||
		a.Get("code_challenge_method") != "S256" || len(a.Get("code_challenge")) != 43 ||
		len(a.Get("nonce")) < 32 || len(a.Get("state")) < 32 {
		t.Errorf("the authorization request: %v", a)
	}
	if len(l.cookies) != 1 || l.cookies[0].Name != "ssokit_sso_"+a.Get("state") || !l.cookies[0].HttpOnly {
		t.Errorf("Start's cookies: %v", l.cookies)
	}
	cb, err := url.Parse(l.callback)
	if err != nil {
		t.Fatal(err)
	}
	if q := cb.Query(); q.Get("code") == "" || q.Get("state") != a.Get("state") || q.Get("iss") != op.issuer || q.Has("error") {
		t.Errorf("oidc-provider's answer: %s", l.callback)
	}
}

// opWantAlice checks Alice's Identity, field by field, and the claims it
// was read from: the ID token's (issuer, audience, this login's nonce)
// with userinfo's added.
func opWantAlice(t *testing.T, op *oidcOP, c opClient, l opLogin, id *idp.Identity) {
	t.Helper()
	want := idp.Identity{Subject: opAlice, Email: "alice@example.com", EmailVerified: true, FirstName: "Alice", LastName: "Liddell",
		Groups: []string{"engineering", "sso-admins"}, IdP: sso.Generic, ConnectionID: "op-" + c.ClientID, Protocol: sso.OIDC}
	got := *id
	raw := got.Raw
	got.Raw = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Identity\n got %+v\nwant %+v", got, want)
	}
	for k, v := range map[string]any{"iss": op.issuer, "sub": opAlice, "aud": c.ClientID, "nonce": l.auth.Get("nonce"),
		"name": "Alice Liddell", "email_verified": true} {
		if raw[k] != v {
			t.Errorf("claim %s is %#v, want %#v (claims %v)", k, raw[k], v, raw)
		}
	}
}
