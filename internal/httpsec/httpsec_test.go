package httpsec

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func audit(t *testing.T, h http.Handler) []string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "https://idp.test/page", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return Audit(req, rec.Result(), rec.Body.Bytes())
}

func TestAudit(t *testing.T) {
	const js = "document.forms[0].submit()"
	page := func(set func(http.Header), body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			set(w.Header())
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(body))
		})
	}
	good := `<form method="post" action="https://sp.test/acs"></form><script>` + js + `</script>`
	for name, c := range map[string]struct {
		h    http.Handler
		want string // a substring of a problem; "" for none
	}{
		"good":                          {page(func(h http.Header) { Page(h, CSP{Scripts: []string{js}, FormAction: []string{"https://sp.test"}}) }, good), ""},
		"defaults only, script blocked": {Handler(page(func(http.Header) {}, good)), "inline script"},
		"no headers":                    {page(func(http.Header) {}, "<p>hi</p>"), "nosniff"},
		"no csp": {page(func(h http.Header) { Defaults(h); h.Del("Content-Security-Policy") }, "<p>hi</p>"),
			"without Content-Security-Policy"},
		"wrong form target": {page(func(h http.Header) { Page(h, CSP{Scripts: []string{js}, FormAction: []string{"'self'"}}) }, good),
			"does not allow the form's target https://sp.test"},
		"self form ok": {page(func(h http.Header) { Page(h, CSP{FormAction: []string{"'self'"}}) }, `<form action="/x"></form>`), ""},
		"unsafe-inline": {page(func(h http.Header) {
			Defaults(h)
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; script-src 'unsafe-inline'")
		}, "<p>"), "script-src allows 'unsafe-inline'"},
		"cacheable": {page(func(h http.Header) { Page(h, CSP{}); h.Set("Cache-Control", "max-age=60") }, "<p>"), "no-store"},
		"framable": {page(func(h http.Header) {
			Defaults(h)
			h.Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'")
		}, "<p>"), "frame-ancestors"},
		"styles blocked": {Handler(page(func(http.Header) {}, `<p style="color:red">`)), "inline styles"},
		"styles allowed": {page(func(h http.Header) { Page(h, CSP{InlineStyles: true}) }, `<style>p{}</style>`), ""},
		"meta refresh":   {page(func(h http.Header) { Page(h, CSP{}) }, `<meta http-equiv="refresh" content="0;url=https://evil.test">`), "meta refresh"},
	} {
		got := audit(t, c.h)
		if c.want == "" && len(got) > 0 || c.want != "" && !strings.Contains(strings.Join(got, "\n"), c.want) {
			t.Errorf("%s: Audit = %q, want a problem containing %q", name, got, c.want)
		}
	}
}

func TestAuditAuthJSON(t *testing.T) {
	tok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write([]byte(`{"access_token":"x"}`))
	})
	if got := audit(t, tok); len(got) != 1 || !strings.Contains(got[0], "no-store") {
		t.Errorf("a token without no-store: %q", got)
	}
	if got := audit(t, Handler(tok)); len(got) != 0 {
		t.Errorf("a token under Handler: %q", got)
	}
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://sp.test:8443/acs?x=1": "https://sp.test:8443",
		"http://127.0.0.1/cb":          "http://127.0.0.1",
		"javascript:alert(1)":          "",
		"/relative":                    "",
		"https://u@sp.test/":           "",
		"https://sp.test;x/":           "",
	} {
		if got := Origin(in); got != want {
			t.Errorf("Origin(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMuxRecords(t *testing.T) {
	m := NewMux()
	m.HandleFunc("GET /a", func(http.ResponseWriter, *http.Request) {})
	m.Handle("POST /b/{id}", http.NotFoundHandler())
	if got := m.Patterns(); strings.Join(got, ",") != "GET /a,POST /b/{id}" {
		t.Errorf("Patterns = %q", got)
	}
	var _ Registrar = m
	var _ Registrar = http.NewServeMux()
}

// TestDefaultCSPIsTheEmptyPolicy: the policy every response starts with is
// what a page that allows nothing beyond it would get, so the two spellings
// cannot drift apart.
func TestDefaultCSPIsTheEmptyPolicy(t *testing.T) {
	if got := (CSP{}).String(); got != DefaultCSP {
		t.Fatalf("CSP{} is %q, DefaultCSP %q", got, DefaultCSP)
	}
}
