package idp

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/sso"
)

// fakeOP is an OpenID provider on loopback whose discovery document and
// token answer a test writes, for the relying party's checks that need
// an OP saying something no real one should.
type fakeOP struct {
	srv *httptest.Server
	// disc adds to (or, with a nil value, removes from) the discovery
	// document; token answers the token endpoint (a JSON object).
	disc  map[string]any
	token func(r *http.Request) map[string]any
	// keys is the JWKS document.
	keys string
	// nonce is the nonce of the login in progress (login sets it).
	nonce string
}

func newFakeOP(t testing.TB) *fakeOP {
	t.Helper()
	op := &fakeOP{disc: map[string]any{}}
	op.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			d := map[string]any{"issuer": op.srv.URL, "authorization_endpoint": op.srv.URL + "/auth",
				"token_endpoint": op.srv.URL + "/token", "jwks_uri": op.srv.URL + "/keys"}
			for k, v := range op.disc {
				if v == nil {
					delete(d, k)
				} else {
					d[k] = v
				}
			}
			json.NewEncoder(w).Encode(d)
		case "/token":
			json.NewEncoder(w).Encode(op.token(r))
		case "/keys":
			w.Write([]byte(op.keys))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(op.srv.Close)
	return op
}

// connect builds a generic OIDC connection to op with opts (loopback
// allowed, a test state key).
func (op *fakeOP) connect(t testing.TB, opts Options) *oidcConnector {
	t.Helper()
	opts.InsecureAllowLoopback = true
	if opts.StateKey == nil {
		opts.StateKey = make([]byte, 32)
	}
	c, err := New(context.Background(), Connection{ID: "fake", Protocol: sso.OIDC, Vendor: sso.Generic,
		Attributes: map[string]string{"email": "email"},
		OIDC:       &OIDCSettings{Issuer: op.srv.URL, ClientID: "client-1", ClientSecret: "secret-1", RedirectURL: "http://app.test/cb"}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*oidcConnector)
}

// login starts a login on c and finishes it with code, as the browser
// that started it, returning what Finish returns. op.nonce is the
// login's nonce while it finishes.
func (op *fakeOP) login(t testing.TB, c *oidcConnector, code string) (*Identity, error) {
	t.Helper()
	start := httptest.NewRecorder()
	if err := c.Start(start, httptest.NewRequest("GET", "http://app.test/login", nil), "/", ""); err != nil {
		t.Fatal(err)
	}
	auth, err := url.Parse(start.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := auth.Query()
	back := httptest.NewRequest("GET", "http://app.test/cb?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), nil)
	for _, ck := range start.Result().Cookies() {
		back.AddCookie(ck)
	}
	op.nonce = q.Get("nonce")
	id, _, err := c.Finish(httptest.NewRecorder(), back)
	return id, err
}

// dialInside is a test dialer for Options.HTTPClient: a host name ending
// in .inside "resolves" to an internal address (the connection it returns
// reports 10.20.30.40 as its remote address, which the guard refuses
// before a byte is sent); any other address is dialed.
func dialInside(ctx context.Context, network, addr string) (net.Conn, error) {
	if host, _, _ := net.SplitHostPort(addr); strings.HasSuffix(host, ".inside") {
		return insideConn{}, nil
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// insideConn is a connection that claims to reach 10.20.30.40:443.
type insideConn struct{ net.Conn }

func (insideConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(10, 20, 30, 40), Port: 443}
}
func (insideConn) Close() error                     { return nil }
func (insideConn) SetDeadline(time.Time) error      { return nil }
func (insideConn) SetReadDeadline(time.Time) error  { return nil }
func (insideConn) SetWriteDeadline(time.Time) error { return nil }
