package idp

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/limittest"
	"github.com/ssokit/ssokit/internal/safehttp"
	"github.com/ssokit/ssokit/internal/state"
	"github.com/ssokit/ssokit/sso"
)

// The tests below send inputs far over each limit and check that the
// refusal is the documented one, comes fast, and allocates a small
// fraction of the input: the limit stops the read, it does not follow it.
// They are not parallel: limittest.Allocated reads process-wide counters.

// hugeInput is what each test offers; a refusal may allocate a few times
// the limit it enforces, never the input.
const hugeInput = 64 << 20

func limitConnector(t *testing.T) *samlConnector {
	t.Helper()
	md := idpMetadataXML(selfSigned(t, time.Now().AddDate(1, 0, 0)), redirectSSO)
	c, err := New(context.Background(), Connection{ID: "limits", Protocol: sso.SAML, Vendor: sso.Okta, SAML: &SAMLSettings{
		IDPMetadataXML: md, EntityID: "https://sp.test/metadata", ACSURL: "https://sp.test/acs", AllowIDPInitiated: true}},
		Options{StateKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return c.(*samlConnector)
}

func wantBounded(t *testing.T, what string, alloc uint64, took time.Duration, allocBound uint64) {
	t.Helper()
	t.Logf("%s: refused in %s, allocating %d bytes", what, took, alloc)
	if allocBound = limittest.Bound(allocBound); alloc > allocBound {
		t.Errorf("%s: refusing a %d MiB input allocated %d bytes (bound %d): the input was read past the limit", what, hugeInput>>20, alloc, allocBound)
	}
	if took > 5*time.Second {
		t.Errorf("%s: the refusal took %s", what, took)
	}
}

// TestLimitACSPost: an ACS POST over maxSAMLPost is refused with
// ReasonTooLarge without reading the rest.
func TestLimitACSPost(t *testing.T) {
	s := limitConnector(t)
	var err error
	alloc, took := limittest.Allocated(func() {
		r := httptest.NewRequest("POST", "https://sp.test/acs", limittest.Body("RelayState=x&SAMLResponse=", hugeInput, 'A', ""))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_, _, err = s.Finish(httptest.NewRecorder(), r)
	})
	if !errors.Is(err, ErrInvalidResponse) || ReasonOf(err) != ReasonTooLarge {
		t.Fatalf("oversized ACS POST: %v", err)
	}
	wantBounded(t, "ACS POST", alloc, took, 4*maxSAMLPost)
}

// TestLimitLogoutPost: a logout POST is bounded too, also when its
// RelayState is in the query (the response is then read from the body).
func TestLimitLogoutPost(t *testing.T) {
	s := limitConnector(t)
	// This browser is waiting for a logout response: the body is read.
	started := httptest.NewRecorder()
	if err := s.state.set(started, "relay", state.Payload{ConnectionID: s.conn.ID, LogoutRequestIDs: []string{"id-1"}}); err != nil {
		t.Fatal(err)
	}
	var err error
	alloc, took := limittest.Allocated(func() {
		r := httptest.NewRequest("POST", "https://sp.test/slo?RelayState=relay", limittest.Body("SAMLResponse=", hugeInput, 'A', ""))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range started.Result().Cookies() {
			r.AddCookie(c)
		}
		err = s.FinishLogout(httptest.NewRecorder(), r)
	})
	if !errors.Is(err, ErrInvalidResponse) || ReasonOf(err) != ReasonTooLarge {
		t.Fatalf("oversized logout POST: %v", err)
	}
	wantBounded(t, "logout POST", alloc, took, 4*maxSAMLPost)
}

// TestLimitSAMLResponse: a decoded response over MaxSAMLResponse, and one
// nesting deeper than MaxXMLDepth, are refused with ReasonTooLarge before
// an XML parser sees them.
func TestLimitSAMLResponse(t *testing.T) {
	s := limitConnector(t)
	big := []byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">` + strings.Repeat(" ", MaxSAMLResponse) + `</samlp:Response>`)
	if _, err := s.consume(context.Background(), big, []string{""}); ReasonOf(err) != ReasonTooLarge {
		t.Errorf("response of %d bytes: %v", len(big), err)
	}
	// Deep, yet well under MaxSAMLResponse: 50 000 levels.
	deep := []byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">` + strings.Repeat("<a>", 50_000) +
		strings.Repeat("</a>", 50_000) + `</samlp:Response>`)
	var err error
	alloc, took := limittest.Allocated(func() { _, err = s.consume(context.Background(), deep, []string{""}) })
	if !errors.Is(err, ErrInvalidResponse) || ReasonOf(err) != ReasonTooLarge || !strings.Contains(err.Error(), "deeper") {
		t.Fatalf("response nested 50 000 deep: %v", err)
	}
	if alloc > limittest.Bound(1<<20) || took > time.Second {
		t.Errorf("refusing the deep response allocated %d bytes in %s", alloc, took)
	}
	// At the limit, the depth check lets the response through to the
	// real checks (which refuse it, unsigned, for another reason).
	ok := []byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="2.0">` +
		strings.Repeat("<a>", MaxXMLDepth-1) + strings.Repeat("</a>", MaxXMLDepth-1) + `</samlp:Response>`)
	if _, err := s.consume(context.Background(), ok, []string{""}); err == nil || strings.Contains(err.Error(), "deeper") {
		t.Errorf("response nested %d deep: %v", MaxXMLDepth, err)
	}
}

// TestLimitSAMLResponseShape: a response under MaxSAMLResponse with more
// than MaxXMLElements elements, MaxXMLAttributes attributes or
// maxXMLComments comments and processing instructions (a crafted
// one of empty elements would cost the XML libraries a third of a second
// of CPU each) is refused with ReasonTooLarge by the one tokenizing pass,
// whether the elements are side by side or spread over nested levels; at
// the bounds it goes on to the real checks.
func TestLimitSAMLResponseShape(t *testing.T) {
	s := limitConnector(t)
	const head = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="2.0">`
	attrs := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, ` a%d="1"`, i)
		}
		return b.String()
	}
	// The Response element itself is one element with three attributes.
	for _, c := range []struct {
		name, body string
		refused    string // "" when the shape check lets it through
	}{
		{"elements over", strings.Repeat("<a/>", MaxXMLElements), "more than 10000 elements"},
		{"elements nested over", strings.Repeat("<b>"+strings.Repeat("<a/>", 99)+"</b>", MaxXMLElements/100), "more than 10000 elements"},
		{"elements at", strings.Repeat("<a/>", MaxXMLElements-1), ""},
		{"attributes on one element over", "<a" + attrs(MaxXMLAttributes-2) + "/>", "more than 32768 attributes"},
		{"attributes spread over", strings.Repeat("<a"+attrs(8)+"/>", (MaxXMLAttributes-3)/8+1), "more than 32768 attributes"},
		{"attributes at", "<a" + attrs(MaxXMLAttributes-3) + "/>", ""},
		// goxmldsig removes comments one by one, each at a cost of its
		// siblings: 65 000 of them in a signed response cost 13 s.
		{"comments over", strings.Repeat("x<!---->", maxXMLComments+1), "more than 1000 comments"},
		{"processing instructions over", strings.Repeat("<?a?>", maxXMLComments+1), "more than 1000 comments and processing instructions"},
		{"comments at", strings.Repeat("x<!---->", maxXMLComments), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw := []byte(head + c.body + `</samlp:Response>`)
			if len(raw) > MaxSAMLResponse {
				t.Fatalf("the case is %d bytes, over MaxSAMLResponse: it tests the size limit instead", len(raw))
			}
			var err error
			alloc, took := limittest.Allocated(func() { _, err = s.consume(context.Background(), raw, []string{""}) })
			if c.refused == "" {
				if err == nil || ReasonOf(err) == ReasonTooLarge {
					t.Fatalf("at the bound: %v, want it past the shape check (and refused unsigned)", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidResponse) || ReasonOf(err) != ReasonTooLarge || !strings.Contains(err.Error(), c.refused) {
				t.Fatalf("%v, want ReasonTooLarge %q", err, c.refused)
			}
			// The tokenizer holds one element's attributes at a time: 32 768
			// of them are about 9 MB.
			if alloc > limittest.Bound(32<<20) || took > time.Second {
				t.Errorf("refusing it allocated %d bytes in %s", alloc, took)
			}
		})
	}
	// An encoding declaration does not stop the count: etree and crewjam
	// read on past one, passing the bytes through.
	declared := []byte(`<?xml version="1.0" encoding="ISO-8859-1"?>` + head + strings.Repeat("x<!---->", maxXMLComments+1) + `</samlp:Response>`)
	if _, err := s.consume(context.Background(), declared, []string{""}); ReasonOf(err) != ReasonTooLarge || !strings.Contains(err.Error(), "more than 1000 comments") {
		t.Errorf("comments over, after an encoding declaration: %v", err)
	}
	md := idpMetadataXML(selfSigned(t, time.Now().AddDate(1, 0, 0)), redirectSSO)
	wide := strings.Replace(md, "</EntityDescriptor>", strings.Repeat("<x/>", MaxXMLElements)+"</EntityDescriptor>", 1)
	if _, err := ParseIdPMetadata([]byte(wide), time.Now()); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "more than 10000 elements") {
		t.Errorf("metadata of %d more elements: %v", MaxXMLElements, err)
	}
}

// TestLimitMetadata: IdP metadata nesting deeper than MaxXMLDepth is
// refused, and metadata fetched from a tenant's URL is read no further
// than maxMetadata.
func TestLimitMetadata(t *testing.T) {
	md := idpMetadataXML(selfSigned(t, time.Now().AddDate(1, 0, 0)), redirectSSO)
	deep := strings.Replace(md, "</EntityDescriptor>", strings.Repeat("<x>", 10_000)+strings.Repeat("</x>", 10_000)+"</EntityDescriptor>", 1)
	if _, err := ParseIdPMetadata([]byte(deep), time.Now()); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "deeper") {
		t.Errorf("metadata nested 10 000 deep: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write([]byte(md[:len(md)-len("</EntityDescriptor>")]))
		buf := make([]byte, 64<<10)
		for i := range buf {
			buf[i] = ' '
		}
		for n := 0; n < hugeInput; n += len(buf) {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	var err error
	alloc, took := limittest.Allocated(func() {
		_, err = New(context.Background(), Connection{ID: "limits", Protocol: sso.SAML, Vendor: sso.Okta, SAML: &SAMLSettings{
			IDPMetadataURL: srv.URL + "/metadata", EntityID: "https://sp.test/metadata", ACSURL: "https://sp.test/acs"}},
			Options{StateKey: make([]byte, 32), InsecureAllowLoopback: true})
	})
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("metadata of %d MiB: %v", hugeInput>>20, err)
	}
	wantBounded(t, "fetched metadata", alloc, took, 3*maxMetadata)
}

// TestLimitOIDCDiscovery: a discovery document and a key set fetched from
// a tenant's issuer are read no further than the guarded client's bound
// (safehttp.DefaultMaxBody) and jwks.MaxBody.
func TestLimitOIDCDiscovery(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%s/authorize","token_endpoint":"%s/token","jwks_uri":"%s/keys","x":"`,
			srv.URL, srv.URL, srv.URL, srv.URL)
		buf := make([]byte, 64<<10)
		for i := range buf {
			buf[i] = 'a'
		}
		for n := 0; n < hugeInput; n += len(buf) {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	var err error
	alloc, took := limittest.Allocated(func() {
		_, err = New(context.Background(), Connection{ID: "limits", Protocol: sso.OIDC, Vendor: sso.Okta, OIDC: &OIDCSettings{
			Issuer: srv.URL, ClientID: "a", ClientSecret: "b", RedirectURL: "https://app.test/cb"}},
			Options{StateKey: make([]byte, 32), InsecureAllowLoopback: true})
	})
	if err == nil {
		t.Fatalf("a discovery document of %d MiB was accepted", hugeInput>>20)
	}
	wantBounded(t, "discovery", alloc, took, 3*safehttp.DefaultMaxBody)
}

// TestLimitLogoutResponseShape: a LogoutResponse, posted or in the query
// (deflated, where crewjam reads it first whatever the method), is held to
// a response's bounds before crewjam parses it.
func TestLimitLogoutResponseShape(t *testing.T) {
	s := limitConnector(t)
	logout := func(comments int) string {
		return `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="r1" Version="2.0" InResponseTo="id-1">` +
			strings.Repeat("x<!---->", comments) + `</samlp:LogoutResponse>`
	}
	deflate := func(s string) string {
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, flate.BestCompression)
		w.Write([]byte(s))
		w.Close()
		return base64.StdEncoding.EncodeToString(b.Bytes())
	}
	send := func(method, query, form string) error {
		started := httptest.NewRecorder()
		if err := s.state.set(started, "relay", state.Payload{ConnectionID: s.conn.ID, LogoutRequestIDs: []string{"id-1"}}); err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(method, "https://sp.test/slo?RelayState=relay"+query, strings.NewReader(form))
		if form != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for _, c := range started.Result().Cookies() {
			r.AddCookie(c)
		}
		return s.FinishLogout(httptest.NewRecorder(), r)
	}
	posted := func(n int) string {
		return "SAMLResponse=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(logout(n))))
	}
	for _, c := range []struct {
		name        string
		query, form func(n int) string
		method      string // POST when there is a form, GET otherwise, unless set
	}{
		{"posted", nil, posted, ""},
		// crewjam's ParseForm reads the body of a PUT or PATCH as well.
		{"put", nil, posted, "PUT"},
		{"patch", nil, posted, "PATCH"},
		{"redirect", func(n int) string { return "&SAMLResponse=" + url.QueryEscape(deflate(logout(n))) }, nil, ""},
		{"posted, in the query", func(n int) string { return "&SAMLResponse=" + url.QueryEscape(deflate(logout(n))) }, func(int) string { return "x=1" }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			for n, refused := range map[int]bool{maxXMLComments + 1: true, maxXMLComments: false} {
				var query, form string
				if c.query != nil {
					query = c.query(n)
				}
				if c.form != nil {
					form = c.form(n)
				}
				method := "GET"
				if form != "" {
					method = "POST"
				}
				if c.method != "" {
					method = c.method
				}
				err := send(method, query, form)
				if got := ReasonOf(err) == ReasonTooLarge; got != refused || (refused && !strings.Contains(err.Error(), "comments")) {
					t.Errorf("%d comments: %v, want too large %v", n, err, refused)
				}
			}
		})
	}
}
