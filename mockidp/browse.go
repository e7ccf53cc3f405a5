package mockidp

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/ssokit/ssokit/mockidp/internal/autopost"
)

// Browse does what a browser without JavaScript needs help with in an SSO
// flow: it GETs startURL with client (give it a cookie jar), following
// redirects, and submits SAML auto-post forms (at most 3), then returns the
// last response, whose body the caller reads and closes. Start an app's
// sign-in with it, as a person clicking "Sign in with SSO":
//
//	resp, err := mockidp.Browse(client, app.URL+"/auth/sso/start?email=alice@acme.test")
func Browse(client *http.Client, startURL string) (*http.Response, error) {
	resp, err := client.Get(startURL)
	for range 3 {
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			return resp, nil
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		action, form, ok := autopost.Form(resp.Request.URL, body)
		if !ok {
			resp.Body = io.NopCloser(bytes.NewReader(body))
			return resp, nil
		}
		resp, err = client.PostForm(action, form)
	}
	if err != nil {
		return nil, err
	}
	return resp, nil
}
