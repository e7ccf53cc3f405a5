package middleware

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
)

// TestCachedSessionCookieSentTwice: a session cookie answered from the
// cache is still refused when the request carries it twice (in one
// header, across two headers, with spaces around the name), and a quoted
// or otherwise unusual form goes through the full parse.
func TestCachedSessionCookieSentTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, err := e.adm.Admit(context.Background(), admission.Login{ClerkOrgID: "org_acme", Email: "twice@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	r := sessionRequest(t, e, p)
	tok, ok := onlyCookie(r, appsession.DefaultCookie)
	if !ok {
		t.Fatal("no session cookie")
	}
	if _, err := e.a.Authenticate(r); err != nil { // now cached
		t.Fatal(err)
	}
	name := appsession.DefaultCookie
	for label, headers := range map[string][]string{
		"twice in one header":   {name + "=" + tok + "; " + name + "=" + tok},
		"in two headers":        {name + "=" + tok, name + "=" + tok},
		"spaces around a name":  {name + "=" + tok + "; " + name + " =" + tok},
		"tab before the second": {name + "=" + tok + ";\t" + name + "=x"},
		"another value second":  {"a=b; " + name + "=" + tok + "; c=d; " + name + "=other"},
	} {
		req := httptest.NewRequest("GET", "/api", nil)
		req.Header["Cookie"] = headers
		if _, ok := onlyCookie(req, name); ok {
			t.Errorf("%s: onlyCookie found one", label)
		}
		if _, err := e.a.Authenticate(req); ssoerr.ReasonOf(err) != ssoerr.ReasonAmbiguous {
			t.Errorf("%s: %v, want ambiguous_request", label, err)
		}
	}
	for label, header := range map[string]string{
		"among others": "a=b; " + name + "=" + tok + "; c=d",
		"padded":       "  " + name + "=" + tok + "  ",
	} {
		req := httptest.NewRequest("GET", "/api", nil)
		req.Header.Set("Cookie", header)
		if v, ok := onlyCookie(req, name); !ok || v != tok {
			t.Errorf("%s: onlyCookie %q %v", label, v, ok)
		}
		if got, err := e.a.Authenticate(req); err != nil || got.UserID != p.UserID {
			t.Errorf("%s: %v", label, err)
		}
	}
	quoted := httptest.NewRequest("GET", "/api", nil)
	quoted.Header.Set("Cookie", name+`="`+tok+`"`)
	if _, ok := onlyCookie(quoted, name); ok {
		t.Error("a quoted value took the fast path")
	}
}

// FuzzOnlyCookie: wherever onlyCookie finds one cookie, net/http finds no
// second one, and where net/http reads it, it reads the same value. So a
// value onlyCookie hands to the cache lookup is one the full parse would
// have given, or one the full parse rejects (which no cache holds).
func FuzzOnlyCookie(f *testing.F) {
	for _, s := range []string{"s=v", "s=v; s=v", " s = v ", "a=b;s=v;c=d", `s="v"`, "s=v\x00x", "s=; s=v", ";;s=v;;", "S=v; s=w"} {
		f.Add(s, "")
	}
	f.Add("s=v", "s=w")
	f.Fuzz(func(t *testing.T, h1, h2 string) {
		r := &http.Request{Header: http.Header{"Cookie": {h1}}}
		if h2 != "" {
			r.Header["Cookie"] = append(r.Header["Cookie"], h2)
		}
		v, ok := onlyCookie(r, "s")
		if !ok {
			return
		}
		cs := r.CookiesNamed("s")
		if len(cs) > 1 {
			t.Fatalf("onlyCookie found one (%q), net/http %d", v, len(cs))
		}
		if len(cs) == 1 && cs[0].Value != v {
			t.Fatalf("onlyCookie %q, net/http %q", v, cs[0].Value)
		}
	})
}

// TestSessionCookieOneCacheLookup: whether the cookie is found by the fast
// path or parsed in full, a request asks the principal cache once, so the
// hit ratio the metrics report counts requests: a first sight is one miss,
// a repeat one hit, a repeat after the store changed one hit (re-checked),
// and a form only the full parse reads one lookup too.
func TestSessionCookieOneCacheLookup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.adm.Admit(ctx, admission.Login{ClerkOrgID: "org_acme", Email: "once@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	r := sessionRequest(t, e, p)
	tok, _ := onlyCookie(r, appsession.DefaultCookie)
	step := func(name string, r *http.Request, hits, misses uint64) {
		t.Helper()
		before := e.a.Stats()
		if _, err := e.a.Authenticate(r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		after := e.a.Stats()
		if h, m := after.AppSessionHits-before.AppSessionHits, after.AppSessionMisses-before.AppSessionMisses; h != hits || m != misses {
			t.Errorf("%s: %d hits and %d misses, want %d and %d", name, h, m, hits, misses)
		}
	}
	step("first sight", r, 0, 1)
	step("repeat", r, 1, 0)
	if err := e.st.CreateOrg(ctx, store.Org{ID: "other", Plan: "free", ClerkOrgID: "org_other", AllowedDomains: []string{"other.test"}}); err != nil {
		t.Fatal(err)
	}
	step("repeat after a store change", r, 1, 0)
	quoted := httptest.NewRequest("GET", "/api", nil)
	quoted.Header.Set("Cookie", appsession.DefaultCookie+`="`+tok+`"`)
	step("quoted, parsed in full", quoted, 1, 0)
}
