package idp_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/internal/state"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
)

func TestOIDCAdministratorChecks(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	a := newApp(t)
	// JumpCloud's issuer has a trailing slash; without it discovery says so.
	jc := oidcConn(srv.Persona("jumpcloud"), a, sso.JumpCloud)
	jc.OIDC.Issuer = strings.TrimSuffix(jc.OIDC.Issuer, "/")
	if _, err := idp.New(context.Background(), jc, idp.Options{HTTPClient: srv.Client(), InsecureAllowLoopback: true, StateKey: testStateKey}); !errors.Is(err, idp.ErrConfig) ||
		!strings.Contains(err.Error(), "trailing slash") {
		t.Fatalf("issuer mismatch: %v", err)
	}
	// The client secret, asked of the token endpoint.
	c := oidcConn(srv.Persona("okta"), a, sso.Okta)
	type checker interface{ CheckClientSecret(context.Context) error }
	conn := connect(t, srv, c, idp.Options{}).(checker)
	if err := conn.CheckClientSecret(context.Background()); err != nil {
		t.Fatalf("right secret: %v", err)
	}
	c.OIDC.ClientSecret = "wrong"
	conn = connect(t, srv, c, idp.Options{}).(checker)
	if err := conn.CheckClientSecret(context.Background()); !errors.Is(err, idp.ErrConfig) || !strings.Contains(err.Error(), "refused the client ID or secret") {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestSAMLStricterSkewGenericProfileAndLogout(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	p := srv.Persona("jumpcloud")

	// The IdP's clock 80 s ahead: within crewjam's skew (and the IdP's own
	// 90 s for our request), beyond a connection's 60 s.
	a := newApp(t)
	c := samlConn(t, p, a, sso.JumpCloud, func(s *idp.SAMLSettings) { s.MaxClockSkew = time.Minute })
	a.conn, a.hint = connect(t, srv, c, idp.Options{}), "bob@globex.test"
	p.SetClockOffset(80 * time.Second)
	wantRefusal(t, browse(t, browser(srv), a.srv.URL+"/login"), idp.ErrInvalidResponse, idp.ReasonExpired)
	// Two minutes ahead, the IdP itself refuses our request as stale: an
	// error status, reported as the IdP's refusal.
	p.SetClockOffset(2 * time.Minute)
	wantRefusal(t, browse(t, browser(srv), a.srv.URL+"/login"), idp.ErrIdPRefused, idp.ReasonIdPError)
	p.SetClockOffset(0)

	// The generic profile reads the names it is given. This connection
	// signs (for logout below) and registers by its own metadata.
	g := newApp(t)
	gc := samlConn(t, p, g, sso.Generic, func(s *idp.SAMLSettings) { s.SLOURL = g.srv.URL + "/saml/slo" })
	gc.Attributes = map[string]string{"email": "email", "first_name": "firstname", "groups": "memberOf"}
	key, cert := spKeyPair(t)
	g.conn, g.hint = connect(t, srv, gc, idp.Options{SPKey: key, SPCertificate: cert}), "alice@globex.test"
	md, err := g.conn.(interface{ Metadata() ([]byte, error) }).Metadata()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RegisterServiceProvider(mockidp.ServiceProviderConfig{MetadataXML: string(md)}); err != nil {
		t.Fatal(err)
	}
	r := browse(t, browser(srv), g.srv.URL+"/login")
	if r.Identity == nil || r.Identity.Email != "alice@globex.test" || r.Identity.FirstName != "Alice" ||
		strings.Join(r.Identity.Groups, ",") != "admins,engineering" || r.Identity.IdP != sso.Generic {
		t.Fatalf("generic identity %+v %s", r.Identity, r.Error)
	}

	// Single logout: the IdP's LogoutResponse is checked, and must answer a
	// LogoutRequest this browser was sent.
	type logout interface {
		StartLogout(http.ResponseWriter, *http.Request, *idp.Identity) error
		FinishLogout(http.ResponseWriter, *http.Request) error
	}
	lo := g.conn.(logout)
	if err := a.conn.(logout).StartLogout(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), r.Identity); !errors.Is(err, idp.ErrConfig) {
		t.Fatalf("logout without a signing key: %v", err)
	}
	noFollow := srv.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	// startLogout sends a LogoutRequest and returns the IdP's answer (the
	// URL of the LogoutResponse) and this browser's state cookies.
	startLogout := func() (string, []*http.Cookie) {
		t.Helper()
		w := httptest.NewRecorder()
		if err := lo.StartLogout(w, httptest.NewRequest("GET", "/logout", nil), r.Identity); err != nil {
			t.Fatal(err)
		}
		resp, err := noFollow.Get(w.Header().Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "SAMLResponse=") {
			t.Fatalf("logout answered %d %s", resp.StatusCode, body)
		}
		return resp.Header.Get("Location"), w.Result().Cookies()
	}
	finish := func(loc string, cookies []*http.Cookie) ([]*http.Cookie, error) {
		back := httptest.NewRequest("GET", loc, nil)
		for _, ck := range cookies {
			back.AddCookie(ck)
		}
		w := httptest.NewRecorder()
		err := lo.FinishLogout(w, back)
		return w.Result().Cookies(), err
	}
	loc, cookies := startLogout()
	// Unsolicited: a browser that sent no LogoutRequest.
	if _, err := finish(loc, nil); !errors.Is(err, idp.ErrNoLogin) {
		t.Fatalf("unsolicited logout response: %v", err)
	}
	// Carried to another browser: its state (for a request of its own) is
	// bound to another RelayState.
	_, otherCookies := startLogout()
	stolen := *otherCookies[0]
	stolen.Name = cookies[0].Name
	if _, err := finish(loc, []*http.Cookie{&stolen}); !errors.Is(err, idp.ErrNoLogin) {
		t.Fatalf("logout response in another browser: %v", err)
	}
	// Genuine state of this browser, under this RelayState, but for another
	// LogoutRequest: the response's InResponseTo does not match.
	codec, err := state.New(state.Config{Key: testStateKey})
	if err != nil {
		t.Fatal(err)
	}
	relay := strings.TrimPrefix(strings.TrimPrefix(cookies[0].Name, "__Host-"), "ssokit_sso_")
	forOther, err := codec.Encode(state.Payload{ConnectionID: gc.ID, Nonce: relay, LogoutRequestIDs: []string{"id-another-request"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := finish(loc, []*http.Cookie{{Name: cookies[0].Name, Value: forOther}}); !errors.Is(err, idp.ErrNoLogin) || idp.ReasonOf(err) != idp.ReasonInResponseTo {
		t.Fatalf("logout response for another request: %v", err)
	}
	cleared, err := finish(loc, cookies)
	if err != nil {
		t.Fatalf("logout response refused: %v", err)
	}
	if len(cleared) != 1 || cleared[0].MaxAge >= 0 {
		t.Fatalf("the logout state was not cleared: %v", cleared)
	}
	// Replayed: in the same browser (its state is gone) and even with the
	// state cookie kept (the response ID is spent).
	if _, err := finish(loc, nil); !errors.Is(err, idp.ErrNoLogin) {
		t.Fatalf("replayed logout response: %v", err)
	}
	if _, err := finish(loc, cookies); !errors.Is(err, idp.ErrReplayed) {
		t.Fatalf("replayed logout response with the old state: %v", err)
	}
}

func spKeyPair(t testing.TB) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return key, cert
}
