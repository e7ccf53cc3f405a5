package safehttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestCheckAddr: every kind of address a tenant must not reach is
// refused, in each of its IPv4 and IPv6 spellings; public addresses pass;
// AllowLoopback admits loopback and nothing else.
func TestCheckAddr(t *testing.T) {
	for _, tc := range []struct {
		kind, addr string
		ok         bool // without AllowLoopback
		okLoopback bool // with AllowLoopback
	}{
		{"public v4", "93.184.215.14", true, true},
		{"public v4 (8.8.8.8)", "8.8.8.8", true, true},
		{"public v6", "2606:4700:4700::1111", true, true},
		{"public v4 mapped", "::ffff:93.184.215.14", true, true},
		{"public v4 in NAT64", "64:ff9b::5db8:d70e", true, true},
		{"public v4 in 6to4", "2002:5db8:d70e::1", true, true},
		{"public v6 with a zone", "2606:4700:4700::1111%eth0", false, false},
		{"loopback v6 with a zone", "::1%lo", false, false},

		{"loopback", "127.0.0.1", false, true},
		{"loopback /8", "127.255.1.2", false, true},
		{"loopback v6", "::1", false, true},
		{"loopback mapped", "::ffff:127.0.0.1", false, true},
		{"loopback compatible", "::127.0.0.1", false, false},
		{"loopback in NAT64", "64:ff9b::7f00:1", false, false},
		{"loopback in 6to4", "2002:7f00:1::1", false, false},

		{"private 10/8", "10.0.0.1", false, false},
		{"private 172.16/12", "172.31.255.254", false, false},
		{"private 192.168/16", "192.168.1.1", false, false},
		{"private mapped", "::ffff:10.1.2.3", false, false},
		{"private compatible", "::10.1.2.3", false, false},
		{"private in NAT64", "64:ff9b::a01:203", false, false},
		{"private in 6to4", "2002:c0a8:101::1", false, false},
		{"private in local NAT64", "64:ff9b:1::a01:203", false, false},

		{"link-local 169.254", "169.254.1.1", false, false},
		{"cloud metadata", "169.254.169.254", false, false},
		{"cloud metadata mapped", "::ffff:169.254.169.254", false, false},
		{"cloud metadata mapped hex", "::ffff:a9fe:a9fe", false, false},
		{"cloud metadata in NAT64", "64:ff9b::a9fe:a9fe", false, false},
		{"cloud metadata v6 (AWS)", "fd00:ec2::254", false, false},
		{"link-local v6", "fe80::1", false, false},
		{"site-local v6", "fec0::1", false, false},

		{"CGNAT", "100.64.0.1", false, false},
		{"CGNAT top", "100.127.255.254", false, false},
		{"CGNAT mapped", "::ffff:100.100.100.200", false, false},

		{"multicast v4", "224.0.0.1", false, false},
		{"multicast v4 top", "239.255.255.250", false, false},
		{"multicast v6", "ff02::1", false, false},
		{"multicast v6 global", "ff0e::1", false, false},

		{"unspecified v4", "0.0.0.0", false, false},
		{"this network 0/8", "0.1.2.3", false, false},
		{"unspecified v6", "::", false, false},
		{"broadcast", "255.255.255.255", false, false},
		{"reserved 240/4", "240.0.0.1", false, false},

		{"ULA", "fc00::1", false, false},
		{"ULA fd", "fd12:3456::1", false, false},
		{"Teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2", false, false},
		{"documentation v6", "2001:db8::1", false, false},
		{"documentation v4", "192.0.2.1", false, false},
		{"benchmark", "198.18.0.1", false, false},
		{"IETF assignments", "192.0.0.8", false, false},
		{"discard v6", "100::1", false, false},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.addr)
			for _, allow := range []bool{false, true} {
				want := tc.ok
				if allow {
					want = tc.okLoopback
				}
				err := CheckAddr(ip, allow)
				if (err == nil) != want {
					t.Fatalf("CheckAddr(%s, loopback=%v) = %v, want ok=%v", tc.addr, allow, err, want)
				}
				if err != nil && !errors.Is(err, ErrBlocked) {
					t.Fatalf("error %v is not ErrBlocked", err)
				}
			}
		})
	}
	if err := CheckAddr(netip.MustParseAddr("fe80::1%eth0"), true); !errors.Is(err, ErrBlocked) {
		t.Fatalf("zoned address: %v", err)
	}
	if err := CheckAddr(netip.Addr{}, true); !errors.Is(err, ErrBlocked) {
		t.Fatalf("zero address: %v", err)
	}
}

// TestCheckURL: the URL forms refused before any dial.
func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url        string
		ok, okLoop bool
	}{
		{"https://idp.example.com/metadata", true, true},
		{"https://idp.example.com:8443/x", true, true},
		{"http://idp.example.com/metadata", false, false},
		{"http://127.0.0.1:4451/okta", false, true},
		{"http://localhost:4451/okta", false, true},
		{"http://[::1]:4451/okta", false, true},
		{"https://127.0.0.1/", false, true},
		{"https://169.254.169.254/latest/meta-data/", false, false},
		{"http://169.254.169.254/latest/meta-data/", false, false},
		{"https://[::ffff:169.254.169.254]/", false, false},
		{"https://10.0.0.1/", false, false},
		{"https://[fe80::1%25eth0]/", false, false},
		{"https://user:pw@idp.example.com/", false, false},
		{"ftp://idp.example.com/", false, false},
		{"file:///etc/passwd", false, false},
		{"gopher://idp.example.com/", false, false},
		{"//idp.example.com/", false, false},
		{"/relative", false, false},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		for _, allow := range []bool{false, true} {
			want := tc.ok
			if allow {
				want = tc.okLoop
			}
			if err := CheckURL(u, allow); (err == nil) != want || (err != nil && !errors.Is(err, ErrBlocked)) {
				t.Errorf("CheckURL(%s, loopback=%v) = %v, want ok=%v", tc.url, allow, err, want)
			}
		}
	}
}

// testServer is a TLS server on 127.0.0.1 with redirect chains, big
// bodies and a slow answer; hits counts the requests that reached it.
func testServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		if n == 0 {
			io.WriteString(w, "ok")
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("length") {
			w.Header().Set("Content-Length", "2000")
		}
		w.Write([]byte(strings.Repeat("x", 1000)))
		w.(http.Flusher).Flush() // no Content-Length unless set above
		w.Write([]byte(strings.Repeat("x", 1000)))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Second)
		io.WriteString(w, "late")
	})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func tlsConfig(srv *httptest.Server) Config {
	return Config{TLSClientConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig}
}

// TestDialTimeCheck: a host name that resolves to a refused address
// ("localhost") passes the URL check and is refused when dialed, so a
// name that resolves (or rebinds) to an internal address does not help.
// The operator's AllowLoopback lets the same client reach it.
func TestDialTimeCheck(t *testing.T) {
	srv, hits := testServer(t)
	u, _ := url.Parse(srv.URL)
	byName := "https://localhost:" + u.Port() + "/hop/0"
	if err := CheckURL(mustURL(t, byName), false); err != nil {
		t.Fatalf("the URL check alone refuses %s: %v (the test needs it to reach the dialer)", byName, err)
	}
	_, err := NewClient(tlsConfig(srv)).Get(byName)
	if !errors.Is(err, ErrBlocked) || hits.Load() != 0 {
		t.Fatalf("dialing localhost: %v, %d requests reached the server", err, hits.Load())
	}
	cfg := tlsConfig(srv)
	cfg.AllowLoopback = true
	resp, err := NewClient(cfg).Get(srv.URL + "/hop/0")
	if err != nil {
		t.Fatalf("with AllowLoopback: %v", err)
	}
	resp.Body.Close()
}

// spoofedConn is a real connection that reports another remote address.
type spoofedConn struct {
	net.Conn
	remote net.Addr
}

func (c spoofedConn) RemoteAddr() net.Addr { return c.remote }

// TestLoopbackDial: a test's dialer that maps names to loopback is used
// only with AllowLoopback, and where it connected is checked like any
// other address: a mapping onto a cloud metadata or private address is
// refused before the request is sent.
func TestLoopbackDial(t *testing.T) {
	srv, hits := testServer(t)
	u, _ := url.Parse(srv.URL)
	const name = "https://idp.okta.test:"
	mapped := func(remote string) func(ctx context.Context, network, addr string) (net.Conn, error) {
		return func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, network, u.Host)
			if err != nil || remote == "" {
				return c, err
			}
			return spoofedConn{c, net.TCPAddrFromAddrPort(netip.MustParseAddrPort(remote))}, nil
		}
	}
	cfg := tlsConfig(srv)
	cfg.AllowLoopback, cfg.LoopbackDial = true, mapped("")
	cfg.TLSClientConfig = cfg.TLSClientConfig.Clone()
	cfg.TLSClientConfig.ServerName = "127.0.0.1" // the certificate names 127.0.0.1, not idp.okta.test
	resp, err := NewClient(cfg).Get(name + u.Port() + "/hop/0")
	if err != nil {
		t.Fatalf("a name mapped to loopback: %v", err)
	}
	resp.Body.Close()
	before := hits.Load()
	for _, remote := range []string{"169.254.169.254:443", "10.0.0.7:443", "[fd00::1]:443"} {
		cfg.LoopbackDial = mapped(remote)
		if _, err := NewClient(cfg).Get(name + u.Port() + "/hop/0"); !errors.Is(err, ErrBlocked) {
			t.Errorf("a name mapped to %s: %v", remote, err)
		}
	}
	// Without AllowLoopback the dialer is not used: the name is looked up
	// as any other (and does not resolve here).
	cfg.AllowLoopback, cfg.LoopbackDial = false, mapped("")
	if _, err := NewClient(cfg).Get(name + u.Port() + "/hop/0"); err == nil {
		t.Error("LoopbackDial used without AllowLoopback")
	}
	if hits.Load() != before {
		t.Errorf("%d refused requests reached the server", hits.Load()-before)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestRedirects: at most three, each target checked again (scheme and
// address), and none for a POST.
func TestRedirects(t *testing.T) {
	srv, _ := testServer(t)
	cfg := tlsConfig(srv)
	cfg.AllowLoopback = true
	c := NewClient(cfg)
	for _, tc := range []struct {
		path string
		want error
	}{
		{"/hop/3", nil},
		{"/hop/4", ErrRedirect},
		{"/to?u=" + url.QueryEscape("https://169.254.169.254/latest/meta-data/"), ErrBlocked},
		{"/to?u=" + url.QueryEscape("http://169.254.169.254/latest/meta-data/"), ErrBlocked},
		{"/to?u=" + url.QueryEscape("https://10.0.0.1/"), ErrBlocked},
		{"/to?u=" + url.QueryEscape("https://[::ffff:192.168.0.1]/"), ErrBlocked},
		{"/to?u=" + url.QueryEscape("http://example.com/"), ErrBlocked},
		{"/to?u=" + url.QueryEscape("file:///etc/passwd"), ErrBlocked},
	} {
		resp, err := c.Get(srv.URL + tc.path)
		if resp != nil {
			resp.Body.Close()
		}
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("GET %s: %v, want %v", tc.path, err, tc.want)
		}
	}
	resp, err := c.Post(srv.URL+"/hop/1", "application/x-www-form-urlencoded", strings.NewReader("client_secret=s"))
	if resp != nil {
		resp.Body.Close()
	}
	if !errors.Is(err, ErrRedirect) {
		t.Fatalf("a redirected POST: %v", err)
	}
}

// TestBounds: a body over MaxBody fails (announced or not), and a slow
// answer times out.
func TestBounds(t *testing.T) {
	srv, _ := testServer(t)
	cfg := tlsConfig(srv)
	cfg.AllowLoopback, cfg.MaxBody, cfg.Timeout = true, 1000, 200*time.Millisecond
	c := NewClient(cfg)
	if _, err := c.Get(srv.URL + "/big?length"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("announced large body: %v", err)
	}
	resp, err := c.Get(srv.URL + "/big")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, ErrTooLarge) || len(b) > 1000 {
		t.Fatalf("streamed large body: %d bytes, %v", len(b), err)
	}
	if _, err := c.Get(srv.URL + "/slow"); err == nil {
		t.Fatal("a slow answer did not time out")
	}
	cfg.MaxBody = 5000
	resp, err = NewClient(cfg).Get(srv.URL + "/big")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(resp.Body); err != nil || len(b) != 2000 {
		t.Fatalf("a body under the limit: %d bytes, %v", len(b), err)
	}
	resp.Body.Close()
}
