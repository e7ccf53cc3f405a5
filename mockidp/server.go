package mockidp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/httpsec"
	"github.com/ssokit/ssokit/mockidp/mockclerk"
)

// Server is a running mock identity platform, used like an
// httptest.Server: start it, read URL, give Client() to the code under
// test, Close it. Every server owns its keys, clock, users and state.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:40123, once listening
	// (or Config.BaseURL for a mounted Handler).
	URL string

	cfg      Config
	now      func() time.Time
	log      *slog.Logger
	personas []*Persona
	byName   map[string]*Persona
	clerks   []*Clerk
	handler  http.Handler
	mux      *httpsec.Mux    // records the routes, for the route walk
	ctx      context.Context // ends at Close: stops webhook retries
	cancel   context.CancelFunc
	base     atomic.Pointer[string]

	listener net.Listener
	http     *http.Server
	client   *http.Client
	closed   sync.Once
	// hosts are the names LoopbackClient maps to loopback besides its
	// patterns: ListenOptions.Host and Hostnames.
	hosts []string

	caMu sync.Mutex
	ca   *testCA
}

// New validates cfg and builds an unstarted server. Its Handler can be
// mounted elsewhere (set Config.BaseURL to the public URL), or Listen /
// ListenTLS start it.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, now: cfg.Now, log: cfg.Logger, byName: map[string]*Persona{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimSuffix(cfg.BaseURL, "/")
	s.base.Store(&base)
	s.URL = base
	for _, pc := range cfg.Personas {
		p := newPersona(s, pc)
		s.personas = append(s.personas, p)
		s.byName[pc.Name] = p
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for _, cc := range cfg.Clerk {
		c, err := mockclerk.New(cc, clerkHost{s}, mockclerk.Options{Now: s.now, Logger: s.log, Context: s.ctx})
		if err != nil {
			s.cancel()
			return nil, err
		}
		s.clerks = append(s.clerks, c)
	}
	s.handler = s.routes()
	return s, nil
}

// NewServer starts a server on a free 127.0.0.1 port over http.
func NewServer(cfg Config) (*Server, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return s, s.Listen("127.0.0.1:0")
}

// NewTLSServer starts a server on a free 127.0.0.1 port over https, with a
// certificate from a CA generated for this server (CACertPEM).
func NewTLSServer(cfg Config) (*Server, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return s, s.ListenTLS("127.0.0.1:0")
}

// Start is NewServer for tests: it fails t on error and closes the server
// when the test ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// StartTLS is NewTLSServer for tests.
func StartTLS(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := NewTLSServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// ListenOptions are how ListenWith serves: a production-like site for
// tests, e.g. the IdP at https://idp.okta.test:<port> while the app under
// test runs at https://app.example.test:<port>, so that the IdP's
// responses reach the app cross-site as they do in production. Clients
// resolve the names with LoopbackClient or LoopbackTransport (Go) or
// Chromium's --host-resolver-rules.
type ListenOptions struct {
	// TLS serves https with a certificate from the server's CA
	// (CACertPEM, SPKIHash).
	TLS bool
	// Host, when set, is the host name of the server's URL instead of the
	// listener's address: Host "idp.okta.test" on 127.0.0.1:40123 makes
	// URL https://idp.okta.test:40123, and every issuer, metadata and
	// endpoint URL of the personas and the mock Clerk is built on it. A
	// TLS certificate carries it. Ignored when Config.BaseURL is set.
	Host string
	// Hostnames are more DNS names the TLS certificate carries ("*."
	// wildcards allowed), for a server reached under several names.
	Hostnames []string
}

// StartWith is ListenWith for tests: a new server on a free 127.0.0.1 port,
// closed when the test ends; it fails t on error.
func StartWith(t testing.TB, cfg Config, o ListenOptions) *Server {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ListenWith("127.0.0.1:0", o); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Listen serves http on addr (host:port; port 0 picks a free one).
func (s *Server) Listen(addr string) error { return s.ListenWith(addr, ListenOptions{}) }

// ListenTLS serves https on addr with a generated CA.
func (s *Server) ListenTLS(addr string) error { return s.ListenWith(addr, ListenOptions{TLS: true}) }

// ListenWith serves on addr as o says. A Host or Hostnames entry that is
// not a DNS name is refused before anything listens.
func (s *Server) ListenWith(addr string, o ListenOptions) error {
	if s.listener != nil {
		return errors.New("mockidp: server already listening")
	}
	names := slices.Clone(loopbackNames)
	if o.Host != "" {
		if err := checkHostname(o.Host); err != nil || strings.HasPrefix(o.Host, "*.") {
			return fmt.Errorf("mockidp: ListenOptions.Host %q is not a host name", o.Host)
		}
		names = append(names, o.Host)
	}
	for _, h := range o.Hostnames {
		if err := checkHostname(h); err != nil {
			return fmt.Errorf("mockidp: ListenOptions.Hostnames: %w", err)
		}
		names = append(names, h)
	}
	var cert tls.Certificate
	if o.TLS {
		var err error
		if cert, err = s.IssueCertificate(names...); err != nil {
			return err
		}
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("mockidp: %w", err)
	}
	scheme := "http"
	s.client = &http.Client{Timeout: 30 * time.Second}
	s.http = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: maxHeaderBytes,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	if o.TLS {
		s.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		l = tls.NewListener(l, s.http.TLSConfig)
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(s.CACertPEM())
		s.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
		scheme = "https"
	}
	s.listener = l
	s.hosts = names[len(loopbackNames):]
	if s.cfg.BaseURL == "" {
		host := l.Addr().String()
		if o.Host != "" {
			_, port, _ := net.SplitHostPort(host)
			host = net.JoinHostPort(strings.ToLower(o.Host), port)
		}
		base := scheme + "://" + host
		s.base.Store(&base)
		s.URL = base
	}
	go func() { _ = s.http.Serve(l) }()
	return nil
}

// Close shuts the server down, waiting briefly for requests in flight.
func (s *Server) Close() {
	s.closed.Do(func() {
		s.cancel()
		if s.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if s.http.Shutdown(ctx) != nil {
				s.http.Close()
			}
		}
	})
}

// Handler is the whole mock as an http.Handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Client returns an HTTP client for the server: for a TLS server it trusts
// the generated CA, and for a server listening under ListenOptions.Host
// or Hostnames it dials those names on loopback (LoopbackClient). It
// follows redirects like http.DefaultClient.
func (s *Server) Client() *http.Client {
	if s.client == nil {
		return &http.Client{Timeout: 30 * time.Second}
	}
	if len(s.hosts) > 0 {
		return s.LoopbackClient()
	}
	c := *s.client
	return &c
}

// Persona returns the persona named name, or nil.
func (s *Server) Persona(name string) *Persona { return s.byName[name] }

// Personas lists the personas in configuration order.
func (s *Server) Personas() []*Persona { return append([]*Persona(nil), s.personas...) }

// Reset puts every persona back to the configuration (users, clients,
// keys, clocks, faults, queued users and outstanding grants) and every
// Clerk instance too.
func (s *Server) Reset() {
	for _, p := range s.personas {
		p.reset()
	}
	for _, c := range s.clerks {
		c.Reset()
	}
}

// Clerk returns the mock Clerk instance named name, or nil.
func (s *Server) Clerk(name string) *Clerk {
	for _, c := range s.clerks {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

// Clerks lists the mock Clerk instances.
func (s *Server) Clerks() []*Clerk { return append([]*Clerk(nil), s.clerks...) }

func (s *Server) baseURL() string { return *s.base.Load() }

// maxBody bounds every request body the mock reads.
const maxBody = 64 << 10

func (s *Server) routes() http.Handler {
	mux := httpsec.NewMux()
	s.mux = mux
	mux.HandleFunc("GET /{$}", s.index)
	s.adminRoutes(mux)
	for _, p := range s.personas {
		p.routes(mux)
	}
	for _, c := range s.clerks {
		c.Routes(mux)
	}
	return s.guard(mux)
}

// guard bounds bodies, answers a panic with 500 rather than a dropped
// connection (and logs it: it is a bug), and sets headers every page wants.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("mockidp: handler panic", "path", r.URL.Path, "panic", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		// The strictest headers, replaced by a page that needs more
		// (httpsec.Page): no page can be served without them.
		httpsec.Defaults(w.Header())
		next.ServeHTTP(w, r)
	})
}
