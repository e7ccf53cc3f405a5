package idp

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"

	"github.com/ssokit/ssokit/sso"
)

// TestStep is one step of a connection test and how it went.
type TestStep struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// TestReport is the outcome of TestConnection, step by step.
type TestReport struct {
	OK       bool       `json:"ok"`
	Steps    []TestStep `json:"steps"`
	Identity *Identity  `json:"identity,omitempty"`
}

func (r *TestReport) step(name string, err error, detail string) bool {
	s := TestStep{Name: name, OK: err == nil, Detail: detail}
	if err != nil {
		s.Detail = err.Error()
	}
	r.Steps = append(r.Steps, s)
	return err == nil
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
	formInput  = regexp.MustCompile(`<input[^>]*name="(SAMLResponse|RelayState)"[^>]*value="([^"]*)"`)
)

// TestConnection runs a real login against the connection's identity
// provider with browser (its own cookie jar is not needed) as the user
// loginHint, and reports each step. It needs an identity provider that
// signs the user in without a page when given the hint, as ssokit's
// mockidp does; against a real IdP it stops at the login page and says so.
func TestConnection(ctx context.Context, c Connector, browser *http.Client, loginHint string) TestReport {
	var rep TestReport
	b := *browser
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	b.Jar = nil

	start := httptest.NewRecorder()
	err := c.Start(start, httptest.NewRequest("GET", "/sso/start", nil).WithContext(ctx), "/", loginHint)
	if !rep.step("authorization request", err, "redirect to "+trimURL(start.Header().Get("Location"))) {
		return rep
	}
	cookies := start.Result().Cookies()
	req, _ := http.NewRequestWithContext(ctx, "GET", start.Header().Get("Location"), nil)
	resp, err := b.Do(req)
	if !rep.step("identity provider reached", err, "") {
		return rep
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 2<<20))
	resp.Body.Close()

	var back *http.Request
	switch c.Connection().Protocol {
	case sso.OIDC:
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || loc == "" {
			rep.step("identity provider answered", fmt.Errorf("status %d without a redirect back: the IdP shows a login page a test cannot fill", resp.StatusCode), "")
			return rep
		}
		rep.step("identity provider answered", nil, "redirect to "+trimURL(loc))
		back = httptest.NewRequest("GET", loc, nil)
	case sso.SAML:
		action := formAction.FindSubmatch(body)
		form := url.Values{}
		for _, m := range formInput.FindAllSubmatch(body, -1) {
			form.Set(string(m[1]), html.UnescapeString(string(m[2])))
		}
		if action == nil || form.Get("SAMLResponse") == "" {
			rep.step("identity provider answered", fmt.Errorf("status %d without a SAMLResponse form: the IdP shows a login page a test cannot fill", resp.StatusCode), "")
			return rep
		}
		rep.step("identity provider answered", nil, "SAMLResponse posted to "+html.UnescapeString(string(action[1])))
		back = httptest.NewRequest("POST", html.UnescapeString(string(action[1])), strings.NewReader(form.Encode()))
		back.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, ck := range cookies {
		back.AddCookie(ck)
	}
	id, _, err := c.Finish(httptest.NewRecorder(), back.WithContext(ctx))
	if !rep.step("response verified", err, "signature, audience, validity, replay and state checked") {
		return rep
	}
	rep.step("identity", nil, fmt.Sprintf("subject %s, email %s, %d groups", id.Subject, id.Email, len(id.Groups)))
	rep.Identity, rep.OK = id, true
	return rep
}

func trimURL(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}
