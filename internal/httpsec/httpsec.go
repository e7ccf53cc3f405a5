package httpsec

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// DefaultCSP is the policy of a response that sets none of its own: no
// resource, no frame parent, no base URL, no form submission.
const DefaultCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Defaults sets the headers every response of these servers starts with.
// A handler that needs a different Content-Security-Policy or
// Cache-Control replaces it with Header().Set (Page does).
func Defaults(h http.Header) {
	h.Set("Content-Security-Policy", DefaultCSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}

// Handler sets Defaults on every response and then calls next.
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Defaults(w.Header())
		next.ServeHTTP(w, r)
	})
}

// CSP describes what an HTML page may do beyond DefaultCSP.
type CSP struct {
	// InlineStyles allows style attributes and <style> elements (the
	// pages' only styling; styles cannot run code).
	InlineStyles bool
	// Scripts are the exact inline scripts the page carries; each is
	// allowed by its SHA-256 hash, nothing else runs.
	Scripts []string
	// FormAction lists the origins (scheme://host[:port]) or 'self' the
	// page's forms may submit to. Empty means form-action 'none' unless
	// AnyFormAction is set.
	FormAction []string
	// AnyFormAction leaves form-action out of the policy. Browsers apply
	// form-action to every redirect that follows a submission, so a form
	// whose submission is redirected on to an origin the page cannot
	// know (an identity provider, then the relying party) sets it; the
	// page says why.
	AnyFormAction bool
}

// String is the policy as a Content-Security-Policy value.
func (c CSP) String() string {
	p := []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"}
	if len(c.Scripts) > 0 {
		src := []string{"script-src"}
		for _, s := range c.Scripts {
			src = append(src, ScriptHash(s))
		}
		p = append(p, strings.Join(src, " "))
	}
	if c.InlineStyles {
		p = append(p, "style-src 'unsafe-inline'")
	}
	switch {
	case c.AnyFormAction:
	case len(c.FormAction) == 0:
		p = append(p, "form-action 'none'")
	default:
		p = append(p, "form-action "+strings.Join(c.FormAction, " "))
	}
	return strings.Join(p, "; ")
}

// ScriptHash is the CSP source expression ('sha256-...') that allows the
// inline script whose text is exactly script.
func ScriptHash(script string) string {
	d := sha256.Sum256([]byte(script))
	return "'sha256-" + base64.StdEncoding.EncodeToString(d[:]) + "'"
}

// Origin is the scheme://host[:port] of an absolute http or https URL, as
// a form-action source; "" for anything else.
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		strings.ContainsAny(u.Host, " ;,'\"") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// Page sets the headers of an HTML page: Defaults, the page's policy and
// the HTML content type. Every HTML page of these servers is an auth
// response or shows one's outcome, so Cache-Control stays no-store.
func Page(h http.Header, csp CSP) {
	Defaults(h)
	h.Set("Content-Security-Policy", csp.String())
	h.Set("Content-Type", "text/html; charset=utf-8")
}

// Mux is an http.ServeMux that records the patterns registered on it, so
// that a test can request every route a server has.
type Mux struct {
	*http.ServeMux
	patterns []string
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{ServeMux: http.NewServeMux()} }

// Handle registers h for pattern (http.ServeMux.Handle) and records it.
func (m *Mux) Handle(pattern string, h http.Handler) {
	m.ServeMux.Handle(pattern, h)
	m.patterns = append(m.patterns, pattern)
}

// HandleFunc registers h for pattern (http.ServeMux.HandleFunc) and
// records it.
func (m *Mux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// Patterns are the patterns registered so far, in order.
func (m *Mux) Patterns() []string { return slices.Clone(m.patterns) }

// Registrar is what registers routes: an *http.ServeMux or a *Mux.
type Registrar interface {
	Handle(pattern string, h http.Handler)
	HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request))
}
