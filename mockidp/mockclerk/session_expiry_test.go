package mockclerk_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/mockidp"
)

// TestClerkSessionExpires: past its expire_at a session is "expired" in
// the Backend API, as Clerk reports it (its tokens are refused already),
// not "active", and a status=active list leaves it out.
func TestClerkSessionExpires(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64
	cfg := mockidp.DefaultConfig()
	cfg.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	srv := mockidp.Start(t, cfg)
	c := srv.Clerk("clerk")
	if _, err := c.MintSessionToken("alice@acme.test", "", "", "https://app.test"); err != nil {
		t.Fatal(err)
	}
	sid := sessionOf(t, srv, c, "alice@acme.test")
	offset.Store(int64(8 * 24 * time.Hour))
	get := func(path string, v any) int {
		req, _ := http.NewRequest("GET", c.BackendAPIURL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+c.SecretKey())
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		jsonDecode(resp, v)
		return resp.StatusCode
	}
	var s struct{ Status string }
	if st := get("/sessions/"+sid, &s); st != 200 || s.Status != "expired" {
		t.Errorf("session past expire_at: %d %q, want expired", st, s.Status)
	}
	var l struct{ Data []struct{ ID string } }
	if st := get("/sessions?paginated=true&status=active", &l); st != 200 || len(l.Data) != 0 {
		t.Errorf("active sessions after expiry: %d %+v", st, l.Data)
	}
	if st := get("/sessions?paginated=true&status=expired", &l); st != 200 || len(l.Data) != 1 || l.Data[0].ID != sid {
		t.Errorf("expired sessions: %d %+v", st, l.Data)
	}
}
