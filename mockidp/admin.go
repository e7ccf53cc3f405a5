package mockidp

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ssokit/ssokit/internal/httpsec"
	"github.com/ssokit/ssokit/mockidp/mockclerk"
)

// adminRoutes registers the JSON admin API under /admin/v1/.
func (s *Server) adminRoutes(mux httpsec.Registrar) {
	h := func(pattern string, fn http.HandlerFunc) { mux.Handle(pattern, s.adminAuth(fn)) }
	h("GET /admin/v1/faults", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, Faults()) })
	h("POST /admin/v1/reset", func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		writeJSON(w, http.StatusOK, map[string]bool{"reset": true})
	})
	h("PUT /admin/v1/personas/{name}/users/{email}", s.withPersona(func(p *Persona, w http.ResponseWriter, r *http.Request) {
		var u UserConfig
		if !decodeAdmin(w, r, &u) {
			return
		}
		if u.Email == "" {
			u.Email = r.PathValue("email")
		}
		if !strings.EqualFold(u.Email, r.PathValue("email")) {
			adminError(w, http.StatusBadRequest, "email_mismatch", "the body's email differs from the path's")
			return
		}
		if err := p.PutUser(u); err != nil {
			adminError(w, http.StatusBadRequest, "invalid_user", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, u)
	}))
	h("DELETE /admin/v1/personas/{name}/users/{email}", s.withPersona(func(p *Persona, w http.ResponseWriter, r *http.Request) {
		if !p.DeleteUser(r.PathValue("email")) {
			adminError(w, http.StatusNotFound, "no_such_user", "no user "+r.PathValue("email"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	h("PUT /admin/v1/personas/{name}/clients/{client_id}", s.withPersona(func(p *Persona, w http.ResponseWriter, r *http.Request) {
		var c ClientConfig
		if !decodeAdmin(w, r, &c) {
			return
		}
		if c.ClientID == "" {
			c.ClientID = r.PathValue("client_id")
		}
		if c.ClientID != r.PathValue("client_id") {
			adminError(w, http.StatusBadRequest, "client_id_mismatch", "the body's client_id differs from the path's")
			return
		}
		if err := p.PutClient(c); err != nil {
			adminError(w, http.StatusBadRequest, "invalid_client", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, c)
	}))
	h("DELETE /admin/v1/personas/{name}/clients/{client_id}", s.withPersona(func(p *Persona, w http.ResponseWriter, r *http.Request) {
		if !p.DeleteClient(r.PathValue("client_id")) {
			adminError(w, http.StatusNotFound, "no_such_client", "no client "+r.PathValue("client_id"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	h("POST /admin/v1/personas/{name}/keys/rotate", s.withPersona(func(p *Persona, w http.ResponseWriter, r *http.Request) {
		k, err := p.keys.Rotate()
		if err != nil {
			adminError(w, http.StatusInternalServerError, "key_generation", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"kid": p.publicKID(k)})
	}))
	h("PUT /admin/v1/personas/{name}/clock", s.withPersona(func(p *Persona, w http.ResponseWriter, r *http.Request) {
		var body struct {
			OffsetSeconds int64 `json:"offset_seconds"`
		}
		if !decodeAdmin(w, r, &body) {
			return
		}
		if body.OffsetSeconds > 10*365*86400 || body.OffsetSeconds < -10*365*86400 {
			adminError(w, http.StatusBadRequest, "invalid_offset", "offset_seconds must be within ten years")
			return
		}
		p.SetClockOffset(time.Duration(body.OffsetSeconds) * time.Second)
		writeJSON(w, http.StatusOK, body)
	}))
	h("POST /admin/v1/personas/{name}/faults", s.withPersona(func(p *Persona, w http.ResponseWriter, r *http.Request) {
		var body struct {
			Fault Fault `json:"fault"`
			Times int   `json:"times"`
		}
		if !decodeAdmin(w, r, &body) {
			return
		}
		if err := p.InjectFault(body.Fault, body.Times); err != nil {
			adminError(w, http.StatusBadRequest, "invalid_fault", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, body)
	}))
	h("DELETE /admin/v1/personas/{name}/faults", s.withPersona(func(p *Persona, w http.ResponseWriter, r *http.Request) {
		p.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	}))
	h("PUT /admin/v1/personas/{name}/service-providers/{id}", s.withPersona(func(p *Persona, w http.ResponseWriter, r *http.Request) {
		var c ServiceProviderConfig
		if !decodeAdmin(w, r, &c) {
			return
		}
		if c.ID != "" && c.ID != r.PathValue("id") {
			adminError(w, http.StatusBadRequest, "id_mismatch", "the body's id differs from the path's")
			return
		}
		c.ID = r.PathValue("id")
		if err := p.saml.register(r.Context(), c); err != nil {
			adminError(w, http.StatusBadRequest, "invalid_service_provider", err.Error())
			return
		}
		for _, sp := range p.ServiceProviders() {
			if sp.ID == c.ID {
				writeJSON(w, http.StatusOK, sp)
				return
			}
		}
		writeJSON(w, http.StatusOK, c)
	}))
	h("DELETE /admin/v1/personas/{name}/service-providers/{id}", s.withPersona(func(p *Persona, w http.ResponseWriter, r *http.Request) {
		if !p.saml.unregister(r.PathValue("id")) {
			adminError(w, http.StatusNotFound, "no_such_service_provider", "no service provider "+r.PathValue("id"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	h("GET /admin/v1/personas/{name}/service-providers", s.withPersona(func(p *Persona, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, nonNilSPs(p.ServiceProviders()))
	}))
	withClerk := func(fn func(*Clerk, http.ResponseWriter, *http.Request)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			c := s.Clerk(r.PathValue("name"))
			if c == nil {
				adminError(w, http.StatusNotFound, "no_such_clerk", "no Clerk instance "+r.PathValue("name"))
				return
			}
			fn(c, w, r)
		}
	}
	h("GET /admin/v1/clerk/{name}/webhook-deliveries", withClerk(func(c *Clerk, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, c.Deliveries())
	}))
	h("PUT /admin/v1/clerk/{name}/webhooks", withClerk(func(c *Clerk, w http.ResponseWriter, r *http.Request) {
		var body struct {
			URLs []string `json:"urls"`
		}
		if !decodeAdmin(w, r, &body) {
			return
		}
		for _, u := range body.URLs {
			if _, err := url.ParseRequestURI(u); err != nil || !strings.HasPrefix(u, "http") {
				adminError(w, http.StatusBadRequest, "invalid_url", "not an http(s) URL: "+u)
				return
			}
		}
		c.SetWebhooks(body.URLs...)
		writeJSON(w, http.StatusOK, body)
	}))
	h("POST /admin/v1/clerk/{name}/faults", withClerk(func(c *Clerk, w http.ResponseWriter, r *http.Request) {
		var body struct {
			Fault Fault `json:"fault"`
			Times int   `json:"times"`
		}
		if !decodeAdmin(w, r, &body) {
			return
		}
		if err := c.InjectFault(mockclerk.Fault(body.Fault), body.Times); err != nil {
			adminError(w, http.StatusBadRequest, "invalid_fault", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, body)
	}))
	h("DELETE /admin/v1/clerk/{name}/faults", withClerk(func(c *Clerk, w http.ResponseWriter, r *http.Request) {
		c.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	}))
	h("POST /admin/v1/clerk/{name}/keys/rotate", withClerk(func(c *Clerk, w http.ResponseWriter, r *http.Request) {
		kid, err := c.RotateKey()
		if err != nil {
			adminError(w, http.StatusInternalServerError, "key_generation", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"kid": kid})
	}))
	h("PUT /admin/v1/clerk/{name}/connections/{id}", withClerk(func(c *Clerk, w http.ResponseWriter, r *http.Request) {
		var cn ClerkConnectionConfig
		if !decodeAdmin(w, r, &cn) {
			return
		}
		cn.ID = r.PathValue("id")
		if err := c.PutConnection(cn); err != nil {
			adminError(w, http.StatusBadRequest, "invalid_connection", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, cn)
	}))
	h("POST /admin/v1/clerk/{name}/sessions/{sid}/revoke", withClerk(func(c *Clerk, w http.ResponseWriter, r *http.Request) {
		if err := c.RevokeSession(r.PathValue("sid")); err != nil {
			adminError(w, http.StatusNotFound, "no_such_session", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"revoked": true})
	}))
	h("POST /admin/v1/personas/{name}/queue", s.withPersona(func(p *Persona, w http.ResponseWriter, r *http.Request) {
		var body struct {
			Email string `json:"email"`
		}
		if !decodeAdmin(w, r, &body) {
			return
		}
		if err := p.QueueUser(body.Email); err != nil {
			adminError(w, http.StatusBadRequest, "invalid_user", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, body)
	}))
}

func (s *Server) withPersona(fn func(*Persona, http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := s.Persona(r.PathValue("name"))
		if p == nil {
			adminError(w, http.StatusNotFound, "no_such_persona", "no persona "+r.PathValue("name"))
			return
		}
		fn(p, w, r)
	}
}

// adminAuth requires the admin token when one is configured, and otherwise
// a loopback caller; and, either way, a request that is not a browser's
// from another site (sameSite).
func (s *Server) adminAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A request with the admin token is the admin's: no page can send
		// it. Without one (or without a token configured) it must not be
		// a browser's from elsewhere.
		if !s.hasAdminToken(r) {
			if why := s.sameSite(r); why != "" {
				adminError(w, http.StatusForbidden, "forbidden", why)
				return
			}
		}
		if tok := s.cfg.AdminToken; tok != "" {
			scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="mockidp-admin"`)
				adminError(w, http.StatusUnauthorized, "unauthorized", "the admin API needs the admin token as a Bearer token")
				return
			}
		} else if !loopbackPeer(r.RemoteAddr) {
			adminError(w, http.StatusForbidden, "forbidden", "without --admin-token the admin API answers loopback callers only")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sameSite says why r may not reach the admin API or the listing of
// secrets, or "" when it may. A loopback peer is not enough on its own:
// the developer's browser is one, so any page it visits could post to the
// admin API (a cross-site request carries Origin and Sec-Fetch-Site), and
// a page whose name is re-pointed at 127.0.0.1 (DNS rebinding) is
// same-origin to the browser but sends its own name as Host. So Host must
// be a name this server answers to, and Origin, when sent, this server.
func (s *Server) sameSite(r *http.Request) string {
	if !s.ownHost(r.Host) {
		return "the Host header is not a name this server answers to"
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		// Reading: another origin's page cannot read the answer (no
		// CORS), and a link from the demo's app to the listing is a
		// same-site navigation that must work.
		return ""
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return "a request from another site (Sec-Fetch-Site " + site + ")"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		base, berr := url.Parse(s.baseURL())
		if err != nil || berr != nil || u.Scheme != base.Scheme || !s.ownHost(u.Host) || effectivePort(u) != effectivePort(base) {
			return "a request from another origin (" + o + ")"
		}
	}
	return ""
}

// normalHost is a host name or address as compared: lower case, without
// brackets or a trailing dot.
func normalHost(h string) string {
	return strings.ToLower(strings.TrimSuffix(strings.Trim(h, "[]"), "."))
}

// ownHost reports whether hostport names this server: a loopback name or
// address, the base URL's host, or one of ListenOptions' names.
func (s *Server) ownHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = normalHost(host)
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() || host == "localhost" {
		return true
	}
	if base, err := url.Parse(s.baseURL()); err == nil && normalHost(base.Hostname()) == host {
		return true // the address or name the server listens or is mounted under
	}
	for _, h := range s.hosts {
		h = normalHost(h)
		if h == host || strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:]) && !strings.Contains(strings.TrimSuffix(host, h[1:]), ".") {
			return true
		}
	}
	return false
}

// hasAdminToken reports whether an admin token is configured and r
// carries it.
func (s *Server) hasAdminToken(r *http.Request) bool {
	tok := s.cfg.AdminToken
	if tok == "" {
		return false
	}
	scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare([]byte(got), []byte(tok)) == 1
}

func loopbackPeer(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			adminError(w, http.StatusRequestEntityTooLarge, "too_large", "the body is too large")
			return false
		}
		adminError(w, http.StatusBadRequest, "invalid_json", err.Error())
		return false
	}
	return true
}

func adminError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}

func nonNilSPs(s []ServiceProviderConfig) []ServiceProviderConfig {
	if s == nil {
		return []ServiceProviderConfig{}
	}
	return s
}
