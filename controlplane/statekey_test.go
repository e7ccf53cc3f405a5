package controlplane_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/internal/state"
)

// A sign-in started before a state key rotation completes after it: the
// replica signing with the new key still verifies states of the previous
// one (PreviousStateKeys), and refuses a state signed with any other key.
func TestStateKeyRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey, otherKey := bytes.Repeat([]byte("o"), 32), bytes.Repeat([]byte("n"), 32), bytes.Repeat([]byte("x"), 32)
	p := newPlaneWith(t, nil, func(c *controlplane.Config) {
		c.StateKey, c.PreviousStateKeys = newKey, [][]byte{oldKey}
	})
	token, err := p.clerk.MintSessionToken("alice@acme.test", "org_acme", "admin", p.app.URL)
	if err != nil {
		t.Fatal(err)
	}
	callback := func(key []byte) (int, string) {
		t.Helper()
		codec, err := state.New(state.Config{Key: key})
		if err != nil {
			t.Fatal(err)
		}
		nonce, _ := codec.NewNonce()
		st, err := codec.Encode(state.Payload{ConnectionID: "clerk", ReturnTo: "/x", Nonce: nonce})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", p.app.URL+"/auth/sso/callback?"+url.Values{"state": {st}}.Encode(), nil)
		for _, c := range []*http.Cookie{{Name: "ssokit_sso_state", Value: nonce}, {Name: "__session", Value: token},
			{Name: "__client_uat", Value: strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10)}, {Name: "__clerk_db_jwt", Value: "dvb_test"}} {
			req.AddCookie(c)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(resp) + resp.Header.Get("Location")
	}
	if status, body := callback(oldKey); status != http.StatusFound || !strings.HasSuffix(body, "/x") {
		t.Errorf("a state of the previous key: %d %s", status, body)
	}
	if status, body := callback(newKey); status != http.StatusFound {
		t.Errorf("a state of the current key: %d %s", status, body)
	}
	if status, body := callback(otherKey); status != http.StatusBadRequest || !strings.Contains(body, "invalid_state") {
		t.Errorf("a state of another key: %d %s", status, body)
	}
	// A previous key shorter than 32 bytes is a configuration error.
	if _, err := controlplane.New(controlplane.Config{AppURL: "https://app.example", StateKey: newKey, PreviousStateKeys: [][]byte{make([]byte, 16)},
		EphemeralSessionKey: true}); err == nil || !strings.Contains(err.Error(), "StateKey") {
		t.Errorf("a short previous key: %v", err)
	}
}
