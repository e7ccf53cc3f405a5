package mockclerk_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/session"
	"github.com/ssokit/ssokit/mockidp"
)

// TestClerkSessionListPaginated: GET /v1/sessions answers {data,
// total_count} only with paginated=true, which every Clerk SDK sends; without
// it Clerk answers the bare array of sessions, its older shape.
func TestClerkSessionListPaginated(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	c := srv.Clerk("clerk")
	app := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(app.Close)
	if _, err := c.SignIn(jarClient(srv), "alice@acme.test", app.URL+"/callback"); err != nil {
		t.Fatal(err)
	}
	uid, ok := c.UserID("alice@acme.test")
	if !ok {
		t.Fatal("no user")
	}
	bapi, sk := c.BackendAPIURL(), c.SecretKey()
	sessions := session.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{URL: &bapi, Key: &sk, HTTPClient: srv.Client()}})
	list, err := sessions.List(context.Background(), &session.ListParams{UserID: clerk.String(uid)})
	if err != nil || list.TotalCount != 1 || len(list.Sessions) != 1 {
		t.Fatalf("the SDK's paginated list: %v %+v", err, list)
	}
	req, _ := http.NewRequest("GET", bapi+"/sessions?user_id="+uid, nil)
	req.Header.Set("Authorization", "Bearer "+sk)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var bare []map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &bare) != nil || len(bare) != 1 || bare[0]["object"] != "session" {
		t.Fatalf("GET /sessions without paginated=true: %d %s; want a bare array of sessions", resp.StatusCode, b)
	}
}
