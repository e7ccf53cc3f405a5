package dashboard_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/controlplane/dashboard"
)

// keysLimiter allows everything and remembers the keys it was asked about.
type keysLimiter struct {
	mu   sync.Mutex
	keys []string
}

func (l *keysLimiter) Allow(_ context.Context, key string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys = append(l.keys, key)
	return true, nil
}

func (l *keysLimiter) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.keys) == 0 {
		return ""
	}
	return l.keys[len(l.keys)-1]
}

func plainDashboard(t *testing.T, mod func(*controlplane.Config)) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	cfg := controlplane.Config{AppURL: "http://" + srv.Listener.Addr().String(), StateKey: bytes.Repeat([]byte{7}, 32),
		EphemeralSessionKey: true, InsecureCookie: true}
	if mod != nil {
		mod(&cfg)
	}
	a, err := controlplane.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dashboard.New(dashboard.Config{API: a, AppURL: cfg.AppURL})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = d
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// TestDashboardLoginCountsTheClient: behind a trusted proxy, a dashboard
// password login is counted under the client's address from
// X-Forwarded-For, as the API's own login is, not under the proxy's
// (where one client's failures would lock everyone out).
func TestDashboardLoginCountsTheClient(t *testing.T) {
	t.Parallel()
	ipLimit := &keysLimiter{}
	srv := plainDashboard(t, func(c *controlplane.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		c.PasswordIPLimit = ipLimit
	})
	status, _ := send(t, browser(), "POST", srv.URL+"/dashboard/login",
		url.Values{"org": {"acme"}, "email": {"pat@acme.test"}, "password": {"x"}}, "X-Forwarded-For", "203.0.113.9")
	if status == http.StatusOK {
		t.Fatal("a login with no such organization was accepted")
	}
	if got, want := ipLimit.last(), admission.ClientKey("203.0.113.9"); got != want {
		t.Fatalf("counted under %q, want the client's %q", got, want)
	}
}

// TestDashboardFormsBounded: a dashboard POST is a URL-encoded form of at
// most 64 KiB; a larger one is 413 and another type (a multipart body Go
// would hold in memory) 415, before anything reads it.
func TestDashboardFormsBounded(t *testing.T) {
	t.Parallel()
	srv := plainDashboard(t, nil)
	post := func(contentType string, body []byte) int {
		t.Helper()
		resp, err := http.Post(srv.URL+"/dashboard/login", contentType, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	big := "org=acme&email=a%40acme.test&password=" + strings.Repeat("A", 9<<20)
	if got := post("application/x-www-form-urlencoded", []byte(big)); got != http.StatusRequestEntityTooLarge {
		t.Errorf("9 MiB form: %d, want 413", got)
	}
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	w.WriteField("password", strings.Repeat("A", 1<<20))
	w.Close()
	if got := post(w.FormDataContentType(), mp.Bytes()); got != http.StatusUnsupportedMediaType {
		t.Errorf("multipart: %d, want 415", got)
	}
	if got := post("text/plain", []byte("org=acme")); got != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d, want 415", got)
	}
}

// TestDashboardNoticeIsACode: the banner shows only the dashboard's own
// notices; a link's text is not shown in its voice.
func TestDashboardNoticeIsACode(t *testing.T) {
	t.Parallel()
	srv := plainDashboard(t, nil)
	_, body := send(t, browser(), "GET", srv.URL+"/?notice="+url.QueryEscape("Your session expired. Sign in again at https://evil.example/login"), nil)
	if strings.Contains(body, "evil.example") || strings.Contains(body, `id="notice"`) {
		t.Fatalf("a link's notice was shown: %.300s", body)
	}
	if _, body := send(t, browser(), "GET", srv.URL+"/?notice=settings-saved", nil); !strings.Contains(body, `data-notice="Settings saved."`) {
		t.Fatal("the dashboard's own notice is not shown")
	}
}
