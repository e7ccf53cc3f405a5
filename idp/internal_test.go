package idp

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ssokit/ssokit/internal/jwks"
	"github.com/ssokit/ssokit/internal/state"
	"github.com/ssokit/ssokit/sso"
)

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func b64url(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestKeySetRefusals(t *testing.T) {
	t.Parallel()
	k := testKey()
	var fetches atomic.Int64
	ks := keySet{cache: &jwks.Cache{Interval: time.Minute, Fetch: func(context.Context) (map[string]crypto.PublicKey, error) {
		fetches.Add(1)
		return map[string]crypto.PublicKey{"k1": &k.PublicKey}, nil
	}}}
	claims := b64url(map[string]any{"iss": "x", "sub": "y"})
	sign := func(kid string) string {
		in := b64url(map[string]any{"alg": "RS256", "kid": kid}) + "." + claims
		d := sha256.Sum256([]byte(in))
		sig, _ := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	if _, err := ks.VerifySignature(context.Background(), sign("k1")); err != nil {
		t.Fatal(err)
	}
	// HS256 keyed with the public key, and alg none.
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	in := b64url(map[string]any{"alg": "HS256", "kid": "k1"}) + "." + claims
	m := hmac.New(sha256.New, der)
	m.Write([]byte(in))
	hs := in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	none := b64url(map[string]any{"alg": "none", "kid": "k1"}) + "." + claims + "."
	for name, tok := range map[string]string{"HS256 with the public key": hs, "alg none": none} {
		if _, err := ks.VerifySignature(context.Background(), tok); ReasonOf(err) != ReasonAlgorithm {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A flood of forged kids within the interval: one fetch at most.
	before := fetches.Load()
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Go(func() {
			if _, err := ks.VerifySignature(context.Background(), sign(fmt.Sprintf("forged-%d", i))); ReasonOf(err) != ReasonUnknownKey {
				t.Errorf("forged kid: %v", err)
			}
		})
	}
	wg.Wait()
	if n := fetches.Load() - before; n > 1 {
		t.Fatalf("%d fetches for 1000 forged kids", n)
	}
}

func selfSigned(t testing.TB, notAfter time.Time) string {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"},
		NotBefore: notAfter.AddDate(-2, 0, 0), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &testKey().PublicKey, testKey())
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func idpMetadataXML(cert, bindings string) string {
	return `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.test/entity">` +
		`<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>` + cert +
		`</X509Certificate></X509Data></KeyInfo></KeyDescriptor>` + bindings + `</IDPSSODescriptor></EntityDescriptor>`
}

const redirectSSO = `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.test/sso"/>`

func TestParseIdPMetadata(t *testing.T) {
	t.Parallel()
	now := time.Now()
	good := selfSigned(t, now.AddDate(1, 0, 0))
	if _, err := ParseIdPMetadata([]byte(idpMetadataXML(good, redirectSSO)), now); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, xml, says string }{
		{"not XML", "{json}", "not SAML metadata XML"},
		{"service provider metadata", `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><SPSSODescriptor/></EntityDescriptor>`, "describes a service provider"},
		{"no IDPSSODescriptor", `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"></EntityDescriptor>`, "no IDPSSODescriptor"},
		{"no entityID", `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><IDPSSODescriptor/></EntityDescriptor>`, "no entityID"},
		{"no SSO binding", idpMetadataXML(good, `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://idp.test/soap"/>`), "HTTP-Redirect or HTTP-POST"},
		{"no signing certificate", idpMetadataXML("", redirectSSO), "no signing certificate"},
		{"expired certificate", idpMetadataXML(selfSigned(t, now.AddDate(0, -1, 0)), redirectSSO), "expired on"},
		// A valid certificate for encryption only does not stand in for
		// the expired signing one.
		{"expired signing, valid encryption certificate", strings.Replace(idpMetadataXML(selfSigned(t, now.AddDate(0, -1, 0)), redirectSSO),
			`</IDPSSODescriptor>`, `<KeyDescriptor use="encryption"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>`+good+
				`</X509Certificate></X509Data></KeyInfo></KeyDescriptor></IDPSSODescriptor>`, 1), "expired on"},
		// crewjam refuses every response when any signing certificate
		// does not parse, a good one beside it or not.
		{"a signing certificate that does not parse beside a good one", strings.Replace(idpMetadataXML(good, redirectSSO),
			`</IDPSSODescriptor>`, `<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>AAAA`+
				`</X509Certificate></X509Data></KeyInfo></KeyDescriptor></IDPSSODescriptor>`, 1), "not a base64 X.509 certificate"},
		{"doctype", `<!DOCTYPE x [<!ENTITY a "b">]>` + idpMetadataXML(good, redirectSSO), "DOCTYPE"},
		{"too large", strings.Repeat(" ", maxMetadata+1), "larger than 1 MiB"},
	} {
		_, err := ParseIdPMetadata([]byte(tc.xml), now)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want one saying %q", tc.name, err, tc.says)
		}
	}
}

func TestNewRefusesBadConnections(t *testing.T) {
	t.Parallel()
	now := time.Now()
	md := idpMetadataXML(selfSigned(t, now.AddDate(1, 0, 0)), redirectSSO)
	noJWKS := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer":"http://%s","authorization_endpoint":"http://%s/a","token_endpoint":"http://%s/t"}`, r.Host, r.Host, r.Host)
	}))
	t.Cleanup(noJWKS.Close)
	saml := func(s SAMLSettings) *SAMLSettings { return &s }
	for _, tc := range []struct {
		name string
		c    Connection
		says string
	}{
		{"no ID", Connection{Protocol: sso.SAML}, "needs an ID"},
		{"vendor", Connection{ID: "c", Protocol: sso.SAML, Vendor: "auth0"}, "is not okta"},
		{"generic without email", Connection{ID: "c", Protocol: sso.SAML, Vendor: sso.Generic}, "attributes.email"},
		{"protocol", Connection{ID: "c", Protocol: "ws-fed", Vendor: sso.Okta}, "not saml or oidc"},
		{"both settings", Connection{ID: "c", Protocol: sso.SAML, Vendor: sso.Okta, SAML: &SAMLSettings{}, OIDC: &OIDCSettings{}}, "no oidc settings"},
		{"no IdP", Connection{ID: "c", Protocol: sso.SAML, Vendor: sso.Okta, SAML: saml(SAMLSettings{EntityID: "https://sp", ACSURL: "https://sp/acs"})}, "give the IdP metadata"},
		{"bad ACS", Connection{ID: "c", Protocol: sso.SAML, Vendor: sso.Okta, SAML: saml(SAMLSettings{IDPMetadataXML: md, EntityID: "https://sp", ACSURL: "javascript:x"})}, "acs_url"},
		{"metadata URL down", Connection{ID: "c", Protocol: sso.SAML, Vendor: sso.Okta, SAML: saml(SAMLSettings{IDPMetadataURL: "http://127.0.0.1:1/md", EntityID: "https://sp", ACSURL: "https://sp/acs"})}, "metadata fetch failed"},
		{"bad certificate PEM", Connection{ID: "c", Protocol: sso.SAML, Vendor: sso.Okta, SAML: saml(SAMLSettings{IDPEntityID: "x", IDPSSOURL: "https://idp/sso", IDPCertificatePEM: "nope", EntityID: "https://sp", ACSURL: "https://sp/acs"})}, "PEM CERTIFICATE"},
		{"discovery down", Connection{ID: "c", Protocol: sso.OIDC, Vendor: sso.Okta, OIDC: &OIDCSettings{Issuer: "http://127.0.0.1:1", ClientID: "a", ClientSecret: "b", RedirectURL: "https://app/cb"}}, "discovery fetch failed"},
		{"no jwks_uri", Connection{ID: "c", Protocol: sso.OIDC, Vendor: sso.Okta, OIDC: &OIDCSettings{Issuer: noJWKS.URL, ClientID: "a", ClientSecret: "b", RedirectURL: "https://app/cb"}}, "no jwks_uri"},
		{"no secret", Connection{ID: "c", Protocol: sso.OIDC, Vendor: sso.Okta, OIDC: &OIDCSettings{Issuer: noJWKS.URL, ClientID: "a", RedirectURL: "https://app/cb"}}, "client_secret"},
	} {
		_, err := New(context.Background(), tc.c, Options{StateKey: make([]byte, 32), InsecureAllowLoopback: true})
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want one saying %q", tc.name, err, tc.says)
		}
	}
	if _, err := New(context.Background(), Connection{ID: "c", Protocol: sso.SAML, Vendor: sso.Okta,
		SAML: saml(SAMLSettings{IDPMetadataXML: md, EntityID: "https://sp", ACSURL: "https://sp/acs"})}, Options{StateKey: []byte("short")}); !errors.Is(err, ErrConfig) {
		t.Errorf("short state key: %v", err)
	}
	if _, err := New(context.Background(), Connection{ID: "c", Protocol: sso.SAML, Vendor: sso.Okta,
		SAML: saml(SAMLSettings{IDPMetadataXML: md, EntityID: "https://sp", ACSURL: "https://sp/acs"})}, Options{}); !errors.Is(err, ErrConfig) ||
		!strings.Contains(err.Error(), "StateKey") {
		t.Errorf("no state key (it has no default): %v", err)
	}
}

func TestStateCookie(t *testing.T) {
	t.Parallel()
	now := time.Now()
	codec := func(key []byte, now time.Time) stateCodec {
		t.Helper()
		c, err := newStateCodec(Options{StateKey: key, Now: func() time.Time { return now }}, false)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := codec(make([]byte, 32), now)
	w := httptest.NewRecorder()
	if err := c.set(w, "h1", state.Payload{ConnectionID: "conn", RequestID: "id-1", ReturnTo: "/x"}); err != nil {
		t.Fatal(err)
	}
	ck := w.Result().Cookies()[0]
	req := func(cookie *http.Cookie) *http.Request {
		r := httptest.NewRequest("POST", "/acs", nil)
		r.AddCookie(cookie)
		return r
	}
	if st, ok := c.take(httptest.NewRecorder(), req(ck), "h1", "conn"); !ok || st.RequestID != "id-1" {
		t.Fatal("a valid state was refused")
	}
	forged := *ck
	forged.Value = strings.Replace(ck.Value, ck.Value[:5], "AAAAA", 1)
	other := codec([]byte(strings.Repeat("k", 32)), now)
	later := codec(make([]byte, 32), now.Add(stateTTL+time.Second))
	for name, f := range map[string]func() bool{
		"other connection": func() bool { _, ok := c.take(httptest.NewRecorder(), req(ck), "h1", "other"); return ok },
		"other handle":     func() bool { _, ok := c.take(httptest.NewRecorder(), req(ck), "h2", "conn"); return ok },
		"forged":           func() bool { _, ok := c.take(httptest.NewRecorder(), req(&forged), "h1", "conn"); return ok },
		"other key":        func() bool { _, ok := other.take(httptest.NewRecorder(), req(ck), "h1", "conn"); return ok },
		"expired":          func() bool { _, ok := later.take(httptest.NewRecorder(), req(ck), "h1", "conn"); return ok },
		"bad handle":       func() bool { _, ok := c.take(httptest.NewRecorder(), req(ck), "h1; x=y", "conn"); return ok },
		"sent twice": func() bool {
			r := req(ck)
			r.AddCookie(ck)
			_, ok := c.take(httptest.NewRecorder(), r, "h1", "conn")
			return ok
		},
	} {
		if f() {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Over https with the path "/", the state cookie is a __Host- cookie (no
// Domain, Secure, Path=/) and only that name is read back: a cookie of the
// plain name, which a sibling subdomain could set, is not a state.
func TestStateCookieHostPrefix(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		secure bool
		path   string
		cookie string
	}{
		{"https, path /", true, "", "__Host-ssokit_sso_h1"},
		{"https, narrower path", true, "/auth/sso/", "ssokit_sso_h1"},
		{"http", false, "", "ssokit_sso_h1"},
	} {
		c, err := newStateCodec(Options{StateKey: make([]byte, 32), CookiePath: tc.path}, tc.secure)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		if err := c.set(w, "h1", state.Payload{ConnectionID: "conn"}); err != nil {
			t.Fatal(err)
		}
		ck := w.Result().Cookies()[0]
		if ck.Name != tc.cookie || ck.Domain != "" || ck.Secure != tc.secure || ck.Path != c.cookiePath() || !ck.HttpOnly {
			t.Errorf("%s: cookie %+v", tc.name, ck)
		}
		r := httptest.NewRequest("POST", "/acs", nil)
		r.AddCookie(&http.Cookie{Name: "ssokit_sso_h1", Value: ck.Value})
		if _, ok := c.take(httptest.NewRecorder(), r, "h1", "conn"); ok != (tc.cookie == "ssokit_sso_h1") {
			t.Errorf("%s: the plain-named cookie taken: %v", tc.name, ok)
		}
	}
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/dashboard": "/dashboard", "/a?b=c": "/a?b=c", "": "/", "https://evil.example": "/", "//evil.example": "/",
		"/\\evil.example": "/", "/\t/evil": "/", "evil": "/", "javascript:alert(1)": "/", "/%2F%2Fevil.example": "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMemoryReplayCache(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := func() time.Time { return now }
	c, err := NewMemoryReplayCache(MemoryReplayCacheConfig{MaxEntries: 100, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Consume(ctx, "a", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := c.Consume(ctx, "a", now.Add(time.Minute)); !errors.Is(err, ErrReplayed) || ReasonOf(err) != ReasonReplay {
		t.Fatalf("second use: %v", err)
	}
	if err := c.Consume(ctx, "b", now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Second) // b expired at its until: usable again, a still spent
	if err := c.Consume(ctx, "b", now.Add(time.Minute)); err != nil {
		t.Fatalf("after its until: %v", err)
	}
	if err := c.Consume(ctx, "a", now.Add(time.Minute)); !errors.Is(err, ErrReplayed) {
		t.Fatalf("a forgotten before its until: %v", err)
	}
	// MaxTTL caps an entry whose until is far away.
	now = now.Add(2 * time.Hour)
	if err := c.Consume(ctx, "a", now.Add(48*time.Hour)); err != nil {
		t.Fatalf("kept past MaxTTL: %v", err)
	}
}

// TestMemoryReplayCacheBound: however many IDs are consumed, the cache
// holds at most MaxEntries; when full of live IDs it refuses new ones as an
// upstream failure, never forgetting a live ID (that would let it be
// replayed); every ID it took stays refused until it expires.
func TestMemoryReplayCacheBound(t *testing.T) {
	t.Parallel()
	now := time.Now()
	c, err := NewMemoryReplayCache(MemoryReplayCacheConfig{MaxEntries: 256, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	var taken []string
	full := 0
	for i := range 10_000 {
		id := fmt.Sprintf("id-%d", i)
		switch err := c.Consume(context.Background(), id, now.Add(time.Minute)); {
		case err == nil:
			taken = append(taken, id)
		case errors.Is(err, ErrUpstream):
			full++
		default:
			t.Fatal(err)
		}
		if n := c.Len(); n > 256 {
			t.Fatalf("after %d IDs the cache holds %d entries, bound 256", i+1, n)
		}
	}
	if len(taken) < 128 || full == 0 {
		t.Fatalf("took %d, refused %d", len(taken), full)
	}
	for _, id := range taken {
		if err := c.Consume(context.Background(), id, now.Add(time.Minute)); !errors.Is(err, ErrReplayed) {
			t.Fatalf("%s replayed: %v", id, err)
		}
	}
	if _, err := NewMemoryReplayCache(MemoryReplayCacheConfig{MaxEntries: -1}); !errors.Is(err, ErrConfig) {
		t.Fatalf("negative size: %v", err)
	}
}

type plainCache struct{ err error }

func (p plainCache) Consume(context.Context, string, time.Time) error { return p.err }

// A ReplayCache of any implementation gets a reason: its replay answer
// (wrapping ErrReplayed) is ReasonReplay, any other error ErrUpstream with
// ReasonUpstream, never a pass.
func TestConsumeGivesReasons(t *testing.T) {
	ctx := context.Background()
	if err := consume(ctx, plainCache{}, "k", time.Now()); err != nil {
		t.Fatal(err)
	}
	err := consume(ctx, plainCache{fmt.Errorf("shared cache: %w", ErrReplayed)}, "k", time.Now())
	if !errors.Is(err, ErrReplayed) || ReasonOf(err) != ReasonReplay {
		t.Errorf("replayed: %v (%s)", err, ReasonOf(err))
	}
	err = consume(ctx, plainCache{errors.New("connection refused")}, "k", time.Now())
	if !errors.Is(err, ErrUpstream) || ReasonOf(err) != ReasonUpstream || errors.Is(err, ErrReplayed) {
		t.Errorf("cache down: %v (%s)", err, ReasonOf(err))
	}
}

// TestRefusalDetailIsBounded: a refusal quotes what an IdP or a request
// sent; its Detail is cut to maxDetail bytes at a rune boundary.
func TestRefusalDetailIsBounded(t *testing.T) {
	long := strings.Repeat("é", maxDetail)
	var le *LoginError
	if !errors.As(refuse(ErrInvalidResponse, ReasonMalformed, "%s", long), &le) || len(le.Detail) > maxDetail+len("…") ||
		!utf8.ValidString(le.Detail) || !strings.HasSuffix(le.Detail, "…") {
		t.Fatalf("detail of %d bytes: %d bytes, valid %v", len(long), len(le.Detail), utf8.ValidString(le.Detail))
	}
	if d := refuse(ErrInvalidResponse, ReasonMalformed, "short").(*LoginError).Detail; d != "short" {
		t.Fatalf("short detail %q", d)
	}
}

// TestSAMLMetadataEntityIDMismatch: an idp_entity_id given beside the
// metadata names the IdP the administrator means; metadata of another
// entity (a wrong paste, or a URL that now serves another IdP) is refused
// rather than trusted in its place.
func TestSAMLMetadataEntityIDMismatch(t *testing.T) {
	t.Parallel()
	md := idpMetadataXML(selfSigned(t, time.Now().AddDate(1, 0, 0)), redirectSSO)
	conn := func(entityID string) Connection {
		return Connection{ID: "c", Protocol: sso.SAML, Vendor: sso.Okta, SAML: &SAMLSettings{IDPMetadataXML: md, IDPEntityID: entityID,
			EntityID: "https://sp", ACSURL: "https://sp/acs"}}
	}
	opts := Options{StateKey: make([]byte, 32)}
	for _, same := range []string{"", "https://idp.test/entity"} {
		if _, err := New(context.Background(), conn(same), opts); err != nil {
			t.Errorf("idp_entity_id %q: %v", same, err)
		}
	}
	_, err := New(context.Background(), conn("http://www.okta.com/exkOtherApp"), opts)
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), `entityID "https://idp.test/entity"`) || !strings.Contains(err.Error(), "http://www.okta.com/exkOtherApp") {
		t.Fatalf("metadata of another IdP: %v", err)
	}
	rep := CheckConnection(context.Background(), conn("http://www.okta.com/exkOtherApp"), opts)
	if rep.OK || len(rep.Steps) == 0 || rep.Steps[0].Name != "metadata" || rep.Steps[0].OK {
		t.Fatalf("the connection check passed metadata of another IdP: %+v", rep)
	}
}

// TestSAMLMetadataWeakKey: a signing certificate whose key is too weak to
// trust (RSA under 2048 bits) is refused when the connection is made, as
// metadata and as a pasted certificate, and named in the connection
// check: every signing certificate of the metadata is trusted, so one
// weak key beside a strong one would let its forger in.
func TestSAMLMetadataWeakKey(t *testing.T) {
	t.Parallel()
	now := time.Now()
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "old-idp"},
		NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &weak.PublicKey, weak)
	if err != nil {
		t.Fatal(err)
	}
	weakCert := base64.StdEncoding.EncodeToString(der)
	strong := selfSigned(t, now.AddDate(1, 0, 0))
	beside := strings.Replace(idpMetadataXML(strong, redirectSSO), `</IDPSSODescriptor>`,
		`<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>`+weakCert+
			`</X509Certificate></X509Data></KeyInfo></KeyDescriptor></IDPSSODescriptor>`, 1)
	// crewjam trusts the signing certificates of every IDPSSODescriptor.
	second := strings.Replace(idpMetadataXML(strong, redirectSSO), `</EntityDescriptor>`,
		`<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="signing">`+
			`<KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>`+weakCert+
			`</X509Certificate></X509Data></KeyInfo></KeyDescriptor>`+redirectSSO+`</IDPSSODescriptor></EntityDescriptor>`, 1)
	for name, md := range map[string]string{"alone": idpMetadataXML(weakCert, redirectSSO), "beside a strong one": beside,
		"in a second IDPSSODescriptor": second} {
		if _, err := ParseIdPMetadata([]byte(md), now); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "1024-bit RSA") {
			t.Errorf("metadata with a weak signing key %s: %v", name, err)
		}
	}
	// An encryption-only certificate signs nothing this SP trusts.
	enc := strings.Replace(beside, `<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>`+weakCert,
		`<KeyDescriptor use="encryption"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>`+weakCert, 1)
	if _, err := ParseIdPMetadata([]byte(enc), now); err != nil {
		t.Errorf("a weak encryption certificate beside a strong signing one: %v", err)
	}
	pemCert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	c := Connection{ID: "c", Protocol: sso.SAML, Vendor: sso.Okta, SAML: &SAMLSettings{IDPEntityID: "https://idp.test/entity",
		IDPSSOURL: "https://idp.test/sso", IDPCertificatePEM: pemCert, EntityID: "https://sp", ACSURL: "https://sp/acs"}}
	if _, err := New(context.Background(), c, Options{StateKey: make([]byte, 32)}); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "1024-bit RSA") {
		t.Errorf("a pasted certificate with a weak key: %v", err)
	}
}

// TestSAMLMetadataExpired: metadata whose validUntil has passed (on the
// EntityDescriptor, or on the EntitiesDescriptor around it) is refused
// when the connection is made: saml-metadata-2.0-os section 4.3.1 says
// expired metadata must not be relied on, and a fresh copy fetched.
func TestSAMLMetadataExpired(t *testing.T) {
	t.Parallel()
	now := time.Now()
	md := idpMetadataXML(selfSigned(t, now.AddDate(1, 0, 0)), redirectSSO)
	stamp := func(d time.Duration) string { return now.Add(d).UTC().Format(time.RFC3339) }
	entity := func(until string) string {
		return strings.Replace(md, `<EntityDescriptor `, `<EntityDescriptor validUntil="`+until+`" `, 1)
	}
	set := func(until, inner string) string {
		return `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" validUntil="` + until + `">` + inner + `</EntitiesDescriptor>`
	}
	for name, doc := range map[string]string{"entity": entity(stamp(time.Hour)), "set": set(stamp(time.Hour), md)} {
		if _, err := ParseIdPMetadata([]byte(doc), now); err != nil {
			t.Errorf("%s valid for an hour more: %v", name, err)
		}
	}
	for name, doc := range map[string]string{"entity": entity(stamp(-time.Hour)), "set": set(stamp(-time.Hour), md),
		"set around a valid entity": set(stamp(-time.Hour), entity(stamp(time.Hour)))} {
		if _, err := ParseIdPMetadata([]byte(doc), now); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "validUntil") {
			t.Errorf("%s expired an hour ago: %v", name, err)
		}
	}
}
