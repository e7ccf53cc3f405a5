package mockclerk

import "testing"

// TestClientsBounded: anyone can start clients (POST /v1/dev_browser), so
// the instance keeps at most maxClients, dropping those without a session
// first: a flood of dev browsers does not sign anyone out.
func TestClientsBounded(t *testing.T) {
	c := &Clerk{clients: map[string]*cClient{}, byToken: map[string]*cClient{}, byDevBrowse: map[string]*cClient{}}
	var signedIn []*cClient
	for i := range maxClients + 1000 {
		cl := c.newClientLocked()
		if i < 100 {
			cl.SessionID = "sess_" + cl.ID
			signedIn = append(signedIn, cl)
		}
	}
	if n := len(c.clients); n > maxClients || n < maxClients*7/8 {
		t.Fatalf("%d clients kept, want at most %d", n, maxClients)
	}
	if len(c.byDevBrowse) != len(c.clients) {
		t.Fatalf("%d dev browsers for %d clients", len(c.byDevBrowse), len(c.clients))
	}
	for _, cl := range signedIn {
		if c.byDevBrowse[cl.DevBrowser] != cl {
			t.Fatalf("signed-in client %s dropped before the others", cl.ID)
		}
	}
}
