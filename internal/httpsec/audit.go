package httpsec

import (
	"errors"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

var (
	scriptTag   = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)
	formOpen    = regexp.MustCompile(`(?is)<form\b([^>]*)>`)
	actionAt    = regexp.MustCompile(`(?is)\baction\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)
	nonceAttr   = regexp.MustCompile(`(?i)\bnonce\s*=\s*"([^"]*)"`)
	inlineStyle = regexp.MustCompile(`(?is)<style\b|<[a-z][^>]*\sstyle\s*=`)
	metaHTTP    = regexp.MustCompile(`(?is)<meta\b[^>]*http-equiv\s*=\s*["']?refresh`)
	// authMarkers in a body make it an auth response: a SAML response,
	// a token, a code or a sign-in form.
	authMarkers = []string{"SAMLResponse", "SAMLRequest", `"access_token"`, `"id_token"`, `"jwt"`, `"refresh_token"`,
		`name="code"`, `name="id_token"`, `type="password"`, `name="email"`}
	// authQuery in a Location make a redirect an auth response.
	authQuery = []string{"code", "id_token", "access_token", "state", "SAMLRequest", "SAMLResponse", "__clerk_handshake",
		"__clerk_db_jwt", "__clerk_handshake_nonce"}
)

// Audit checks one response of a route walk and says what is wrong with
// it, nothing when nothing is. req is the request that was answered (form
// actions resolve against its URL), body the response's body.
//
// Every response must have X-Content-Type-Options nosniff. An HTML one
// (by Content-Type, or sniffed when there is none) must have a
// Content-Security-Policy with default-src 'none' or 'self',
// frame-ancestors 'none', base-uri 'none' and no 'unsafe-inline' or
// 'unsafe-eval' scripts, whose script-src allows each inline script by
// hash or nonce, whose style-src allows the inline styles the page has,
// and whose form-action, when present, allows every form's target; a
// Referrer-Policy; no meta refresh. An auth response (an HTML
// page, a cookie set, a token, code or SAML message in the body or the
// Location) must have Cache-Control no-store.
func Audit(req *http.Request, resp *http.Response, body []byte) []string {
	var bad []string
	h := resp.Header
	if h.Get("X-Content-Type-Options") != "nosniff" {
		bad = append(bad, "no X-Content-Type-Options: nosniff")
	}
	ct := h.Get("Content-Type")
	if ct == "" && len(body) > 0 {
		ct = http.DetectContentType(body)
	}
	mt, _, _ := mime.ParseMediaType(ct)
	isHTML := mt == "text/html" || mt == "application/xhtml+xml"
	if isHTML {
		bad = append(bad, auditPage(req, h, body)...)
	}
	if (isHTML || isAuth(resp, body)) && !slices.Contains(directiveList(h.Get("Cache-Control")), "no-store") {
		bad = append(bad, "an auth response without Cache-Control: no-store (has "+strings.TrimSpace(h.Get("Cache-Control"))+")")
	}
	return bad
}

func isAuth(resp *http.Response, body []byte) bool {
	if len(resp.Header.Values("Set-Cookie")) > 0 {
		return true
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			q, _ := url.ParseQuery(u.RawQuery)
			f, _ := url.ParseQuery(u.Fragment)
			for _, k := range authQuery {
				if q.Has(k) || f.Has(k) {
					return true
				}
			}
		}
	}
	s := string(body)
	for _, m := range authMarkers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

func directiveList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		out = append(out, strings.ToLower(strings.TrimSpace(p)))
	}
	return out
}

// parseCSP reads a policy into its directives' source lists. Several
// header values are several policies, all enforced; the first that names
// a directive is taken, which is enough for these servers (one each).
func parseCSP(values []string) map[string][]string {
	d := map[string][]string{}
	for _, v := range values {
		for _, part := range strings.Split(v, ";") {
			f := strings.Fields(part)
			if len(f) == 0 {
				continue
			}
			name := strings.ToLower(f[0])
			if _, ok := d[name]; !ok {
				d[name] = f[1:]
			}
		}
	}
	return d
}

func auditPage(req *http.Request, h http.Header, body []byte) []string {
	var bad []string
	if rp := h.Get("Referrer-Policy"); rp != "no-referrer" && rp != "same-origin" && rp != "strict-origin-when-cross-origin" {
		bad = append(bad, "Referrer-Policy is "+quote(rp))
	}
	csps := h.Values("Content-Security-Policy")
	if len(csps) == 0 {
		return append(bad, "an HTML page without Content-Security-Policy")
	}
	d := parseCSP(csps)
	if ds := d["default-src"]; len(ds) != 1 || (ds[0] != "'none'" && ds[0] != "'self'") {
		bad = append(bad, "default-src is not 'none' or 'self': "+strings.Join(ds, " "))
	}
	if fa := d["frame-ancestors"]; len(fa) != 1 || fa[0] != "'none'" {
		bad = append(bad, "frame-ancestors is not 'none'")
	}
	if bu := d["base-uri"]; len(bu) != 1 || bu[0] != "'none'" {
		bad = append(bad, "base-uri is not 'none'")
	}
	scripts, ok := d["script-src"]
	if !ok {
		scripts = d["default-src"]
	}
	for _, s := range scripts {
		if l := strings.ToLower(s); l == "'unsafe-inline'" || l == "'unsafe-eval'" || l == "*" || l == "data:" || l == "http:" || l == "https:" {
			bad = append(bad, "script-src allows "+s)
		}
	}
	for _, m := range scriptTag.FindAllSubmatch(body, -1) {
		attrs, text := string(m[1]), string(m[2])
		allowed := slices.Contains(scripts, ScriptHash(text))
		if n := nonceAttr.FindStringSubmatch(attrs); n != nil {
			allowed = allowed || slices.Contains(scripts, "'nonce-"+html.UnescapeString(n[1])+"'")
		}
		if !allowed {
			bad = append(bad, "an inline script the policy does not allow: "+quote(text))
		}
	}
	styles, ok := d["style-src"]
	if !ok {
		styles = d["default-src"]
	}
	if inlineStyle.Match(body) && !slices.Contains(styles, "'unsafe-inline'") {
		bad = append(bad, "inline styles the policy blocks")
	}
	if metaHTTP.Match(body) {
		bad = append(bad, "a meta refresh")
	}
	fa, restricted := d["form-action"]
	if !restricted {
		return bad
	}
	self := req.URL.Scheme + "://" + req.Host
	if req.URL.Scheme == "" {
		self = "http://" + req.Host
	}
	for _, m := range formOpen.FindAllSubmatch(body, -1) {
		action := ""
		if a := actionAt.FindSubmatch(m[1]); a != nil {
			action = html.UnescapeString(string(a[1]) + string(a[2]) + string(a[3]))
		}
		base, _ := url.Parse(self + req.URL.RequestURI())
		target, err := base.Parse(action)
		if err != nil {
			bad = append(bad, "a form action that does not parse: "+quote(action))
			continue
		}
		o := target.Scheme + "://" + target.Host
		if !(slices.Contains(fa, o) || (o == self && slices.Contains(fa, "'self'"))) {
			bad = append(bad, "form-action "+strings.Join(fa, " ")+" does not allow the form's target "+o)
		}
	}
	return bad
}

func quote(s string) string {
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return `"` + s + `"`
}

// wildcard is a path wildcard of a ServeMux pattern.
var wildcard = regexp.MustCompile(`\{([^}]*)\}`)

// WalkRequest is a request a route walk sends to a ServeMux pattern
// ("METHOD [host]/path/{name}") on the server at base: wildcards take
// their value from values ("x" when absent, nothing for {$}); a host in
// the pattern becomes the request's Host. A POST, PUT or PATCH carries
// form, as application/x-www-form-urlencoded when it starts with no "{",
// else as JSON. The request asks for HTML, as a browser's page load does.
func WalkRequest(base, pattern string, values map[string]string, form string) (*http.Request, error) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return nil, errors.New("httpsec: pattern " + quote(pattern) + " has no method")
	}
	host := ""
	if !strings.HasPrefix(path, "/") {
		host, path, _ = strings.Cut(path, "/")
		path = "/" + path
	}
	path = wildcard.ReplaceAllStringFunc(path, func(w string) string {
		name := strings.TrimSuffix(strings.Trim(w, "{}"), "...")
		if name == "$" {
			return ""
		}
		if v, ok := values[name]; ok {
			return url.PathEscape(v)
		}
		return "x"
	})
	var body io.Reader
	if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		return nil, err
	}
	if host != "" {
		req.Host = host
	}
	if body != nil {
		if strings.HasPrefix(form, "{") {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	return req, nil
}
