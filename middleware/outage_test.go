package middleware

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/apikey"
	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
)

// downStore is a store whose every read fails, as an outage would, while
// down is set: the error is not store.ErrNotFound.
type downStore struct {
	*store.Memory
	down atomic.Bool
}

var errDown = errors.New("dial tcp 10.0.0.9:5432: connection refused")

func (s *downStore) err() error {
	if s.down.Load() {
		return errDown
	}
	return nil
}

func (s *downStore) GetOrg(ctx context.Context, id string) (store.Org, error) {
	if err := s.err(); err != nil {
		return store.Org{}, err
	}
	return s.Memory.GetOrg(ctx, id)
}

func (s *downStore) OrgByClerkID(ctx context.Context, id string) (store.Org, error) {
	if err := s.err(); err != nil {
		return store.Org{}, err
	}
	return s.Memory.OrgByClerkID(ctx, id)
}

func (s *downStore) GetUser(ctx context.Context, id string) (store.User, error) {
	if err := s.err(); err != nil {
		return store.User{}, err
	}
	return s.Memory.GetUser(ctx, id)
}

func (s *downStore) UserByEmail(ctx context.Context, org, email string) (store.User, error) {
	if err := s.err(); err != nil {
		return store.User{}, err
	}
	return s.Memory.UserByEmail(ctx, org, email)
}

func (s *downStore) APIKeyByHash(ctx context.Context, h string) (store.APIKey, error) {
	if err := s.err(); err != nil {
		return store.APIKey{}, err
	}
	return s.Memory.APIKeyByHash(ctx, h)
}

func (s *downStore) IsRevoked(ctx context.Context, jti string) (bool, error) {
	if err := s.err(); err != nil {
		return false, err
	}
	return s.Memory.IsRevoked(ctx, jti)
}

// TestStoreOutageIs503: on every credential path (Clerk session mapped to
// an app person, app session, API key) a store outage answers 503
// upstream_unavailable, never the 401 or 403 of an unknown or revoked
// credential, and the same credential works again once the store is back.
// Without the store version (Versions nil) every request reads the store.
func TestStoreOutageIs503(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testKid, nil)
	mem, _ := store.NewMemory(store.MemoryConfig{Now: f.clk.Now})
	st := &downStore{Memory: mem}
	ctx := context.Background()
	mem.CreateOrg(ctx, store.Org{ID: "acme", Plan: "enterprise", ClerkOrgID: "org_acme", AllowedDomains: []string{"acme.test"}, AutoCreateUsers: true})
	sess, err := appsession.New(appsession.Config{Keys: []appsession.Key{appsession.EphemeralKey()}, Issuer: "https://app.test", Now: f.clk.Now, Revocations: st})
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := apikey.New(apikey.Config{Store: st, Now: f.clk.Now})
	adm, _ := admission.New(admission.Config{Store: st, Now: f.clk.Now})
	a, err := NewAuthenticator(AuthenticatorConfig{Clerk: f.v, Sessions: sess, APIKeys: keys, Admission: adm, Now: f.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	person, err := adm.Admit(ctx, admission.Login{ClerkOrgID: "org_acme", Email: "ann@acme.test", ClerkUserID: "user_ann"})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if _, err := a.StartSession(w, person); err != nil {
		t.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	plain, _, err := keys.Create(ctx, "acme", "ci", "editor", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	clerkTok := mint(t, f.keys[0], hdr(testKid), with(v1Claims(f.clk.Now()), "sub", "user_ann", "org_id", "org_acme", "email", "ann@acme.test"))

	for name, req := range map[string]func() *http.Request{
		"clerk bearer": func() *http.Request {
			r := httptest.NewRequest("GET", "/api", nil)
			r.Header.Set("Authorization", "Bearer "+clerkTok)
			return r
		},
		"clerk cookie": func() *http.Request {
			r := httptest.NewRequest("GET", "/api", nil)
			r.AddCookie(&http.Cookie{Name: DefaultSessionCookie, Value: clerkTok})
			r.AddCookie(&http.Cookie{Name: DefaultClientUATCookie, Value: strconv.FormatInt(f.clk.Now().Unix(), 10)})
			return r
		},
		"app session": func() *http.Request {
			r := httptest.NewRequest("GET", "/api", nil)
			r.AddCookie(cookie)
			return r
		},
		"api key header": func() *http.Request {
			r := httptest.NewRequest("GET", "/api", nil)
			r.Header.Set("X-API-Key", plain)
			return r
		},
		"api key bearer": func() *http.Request {
			r := httptest.NewRequest("GET", "/api", nil)
			r.Header.Set("Authorization", "Bearer "+plain)
			return r
		},
	} {
		serve := func() *httptest.ResponseRecorder {
			w := httptest.NewRecorder()
			a.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if p, _ := PrincipalFrom(r.Context()); p.OrgID != "acme" {
					t.Errorf("%s: principal %+v not mapped to the app person", name, p)
				}
			})).ServeHTTP(w, req())
			return w
		}
		if w := serve(); w.Code != http.StatusOK {
			t.Fatalf("%s with the store up: %d %s", name, w.Code, w.Body)
		}
		st.down.Store(true)
		w := serve()
		st.down.Store(false)
		var body struct{ Error string }
		json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != http.StatusServiceUnavailable || body.Error != CodeUpstream || w.Header().Get("Retry-After") == "" {
			t.Errorf("%s with the store down: %d %s; want 503 %s", name, w.Code, w.Body, CodeUpstream)
		}
		if w := serve(); w.Code != http.StatusOK {
			t.Errorf("%s with the store back: %d %s", name, w.Code, w.Body)
		}
	}
}

// TestClerkSessionOfAnotherClerkUser: a Clerk token whose email maps to a
// person bound to another Clerk user is refused with subject_mismatch,
// not mapped to that person.
func TestClerkSessionOfAnotherClerkUser(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testKid, nil)
	mem, _ := store.NewMemory(store.MemoryConfig{Now: f.clk.Now})
	ctx := context.Background()
	mem.CreateOrg(ctx, store.Org{ID: "acme", Plan: "enterprise", ClerkOrgID: "org_acme", AllowedDomains: []string{"acme.test"}, AutoCreateUsers: true})
	adm, _ := admission.New(admission.Config{Store: mem, Now: f.clk.Now})
	a, _ := NewAuthenticator(AuthenticatorConfig{Clerk: f.v, Admission: adm, Now: f.clk.Now})
	if _, err := adm.Admit(ctx, admission.Login{ClerkOrgID: "org_acme", Email: "ann@acme.test", ClerkUserID: "user_ann", Subject: "user_ann"}); err != nil {
		t.Fatal(err)
	}
	for user, want := range map[string]string{"user_ann": "", "user_mallory": string(ssoerr.ReasonSubjectMismatch)} {
		r := httptest.NewRequest("GET", "/api", nil)
		r.Header.Set("Authorization", "Bearer "+mint(t, f.keys[0], hdr(testKid), with(v1Claims(f.clk.Now()), "sub", user, "org_id", "org_acme", "email", "Ann@acme.test")))
		p, err := a.Authenticate(r)
		if want == "" {
			if err != nil || p.UserID == "" || p.ClerkUserID != user {
				t.Fatalf("%s: %v %+v", user, err, p)
			}
			// ClerkLogin carries the Clerk user as the login's subject.
			if l, err := a.ClerkLogin(ctx, p); err != nil || l.Subject != user {
				t.Fatalf("ClerkLogin subject %q (%v), want %q", l.Subject, err, user)
			}
			continue
		}
		wantCode(t, err, want)
		if Classify(err).Status != http.StatusForbidden {
			t.Fatalf("%s: status %d", user, Classify(err).Status)
		}
	}
}

// TestClientIP: the client address for limits, with and without trusted
// proxies, against hostile X-Forwarded-For forms.
func TestClientIP(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	many := strings.Repeat("10.0.0.1,", 100)
	for _, c := range []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies: XFF ignored", "203.0.113.9:5555", []string{"198.51.100.1"}, nil, "203.0.113.9"},
		{"no proxies: spoofed XFF ignored", "203.0.113.9:5555", []string{"10.0.0.1, 127.0.0.1"}, nil, "203.0.113.9"},
		{"untrusted peer: XFF ignored", "203.0.113.9:5555", []string{"198.51.100.1"}, proxies, "203.0.113.9"},
		{"one trusted proxy", "10.0.0.2:80", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"spoofed left entries", "10.0.0.2:80", []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, proxies, "198.51.100.1"},
		{"spoofed left entries in an earlier header", "10.0.0.2:80", []string{"1.1.1.1", "198.51.100.1"}, proxies, "198.51.100.1"},
		{"chain of trusted proxies", "10.0.0.2:80", []string{"198.51.100.1, 10.1.1.1, 10.2.2.2"}, proxies, "198.51.100.1"},
		{"spoofed trusted-looking entry left of the client", "10.0.0.2:80", []string{"10.9.9.9, 198.51.100.1"}, proxies, "198.51.100.1"},
		{"garbage rightmost", "10.0.0.2:80", []string{"198.51.100.1, garbage"}, proxies, "10.0.0.2"},
		{"garbage behind a trusted hop", "10.0.0.2:80", []string{"garbage, 10.1.1.1"}, proxies, "10.1.1.1"},
		{"unknown", "10.0.0.2:80", []string{"unknown"}, proxies, "10.0.0.2"},
		{"an address with a port", "10.0.0.2:80", []string{"198.51.100.1:4444"}, proxies, "10.0.0.2"},
		{"bracketed IPv6", "10.0.0.2:80", []string{"[2001:db8::1]"}, proxies, "10.0.0.2"},
		{"empty header", "10.0.0.2:80", []string{""}, proxies, "10.0.0.2"},
		{"empty entries", "10.0.0.2:80", []string{",,"}, proxies, "10.0.0.2"},
		{"no header", "10.0.0.2:80", nil, proxies, "10.0.0.2"},
		{"IPv6 client", "10.0.0.2:80", []string{"2001:db8:1::7"}, proxies, "2001:db8:1::7"},
		{"IPv6 client with a zone", "10.0.0.2:80", []string{"fe80::1%eth0"}, proxies, "fe80::1"},
		{"IPv4-mapped client", "10.0.0.2:80", []string{"::ffff:198.51.100.1"}, proxies, "198.51.100.1"},
		{"IPv4-mapped trusted proxy", "10.0.0.2:80", []string{"198.51.100.1, ::ffff:10.1.1.1"}, proxies, "198.51.100.1"},
		{"IPv6 trusted peer", "[2001:db8:ffff::1]:443", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"IPv6 peer with a zone", "[fe80::1%eth0]:443", []string{"198.51.100.1"}, nil, "fe80::1"},
		{"whitespace around entries", "10.0.0.2:80", []string{" 198.51.100.1 \t"}, proxies, "198.51.100.1"},
		{"many trusted entries", "10.0.0.2:80", []string{"198.51.100.1," + many + "10.0.0.3"}, proxies, "10.0.0.1"},
		{"many spoofed entries", "10.0.0.2:80", []string{strings.Repeat("1.2.3.4,", 1000) + "198.51.100.1"}, proxies, "198.51.100.1"},
		{"RemoteAddr without port", "203.0.113.9", nil, nil, "203.0.113.9"},
		{"RemoteAddr not an address", "pipe", []string{"198.51.100.1"}, proxies, "pipe"},
	} {
		r := httptest.NewRequest("POST", "/v1/auth/login", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := ClientIP(r, c.trusted); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
