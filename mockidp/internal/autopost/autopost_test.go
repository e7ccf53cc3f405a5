package autopost_test

import (
	"net/url"
	"testing"

	"github.com/ssokit/ssokit/mockidp/internal/autopost"
)

// TestFormPostResponse: an OIDC response_mode=form_post page is read with
// all its hidden fields; a login page (which carries the request's state
// in hidden fields next to an email field), a post form without a
// response field, and actions that are not http(s) URLs are not.
func TestFormPostResponse(t *testing.T) {
	page, _ := url.Parse("https://idp.example/oauth2/v1/authorize?client_id=x")
	formPost := `<!DOCTYPE html><html><body>
<form method="post" action="https://app.example/callback?x=1&amp;y=2">
<input type="hidden" name="code" value="c&#43;1"/>
<input type="hidden" name="session_state" value="s s"/>
<input type="hidden" name="state" value="st"/>
<noscript><input type="submit" value="Submit"/></noscript>
</form><script>document.forms[0].submit();</script></body></html>`
	action, form, ok := autopost.Form(page, []byte(formPost))
	if !ok || action != "https://app.example/callback?x=1&y=2" || form.Get("code") != "c+1" || form.Get("state") != "st" || form.Get("session_state") != "s s" || len(form) != 3 {
		t.Fatalf("form_post page: %v %q %v", ok, action, form)
	}
	for name, body := range map[string]string{
		"error response": `<FORM METHOD=POST ACTION='/cb'><input name=error type=hidden value=access_denied><input type="hidden" name="state" value="st"></FORM>`,
	} {
		action, form, ok := autopost.Form(page, []byte(body))
		if !ok || action != "https://idp.example/cb" || form.Get("error") != "access_denied" || form.Get("state") != "st" {
			t.Fatalf("%s: %v %q %v", name, ok, action, form)
		}
	}
	for name, body := range map[string]string{
		"login page": `<form method="post" action="/authorize"><input type="hidden" name="state" value="st">
<input type="hidden" name="code_challenge" value="x"><input type="email" name="email"><button type="submit">Sign in</button></form>`,
		"login page with a code": `<form method="post" action="/login"><input type="hidden" name="code" value="x"><input name="otp"></form>`,
		"no response field":      `<form method="post" action="/cb"><input type="hidden" name="state" value="st"></form>`,
		"get form":               `<form method="get" action="/cb"><input type="hidden" name="code" value="x"></form>`,
		"javascript action":      `<form method="post" action="javascript:alert(1)"><input type="hidden" name="code" value="x"></form>`,
		"data action":            `<form method="post" action="data:text/html,hi"><input type="hidden" name="code" value="x"></form>`,
		"saml javascript action": `<form method="post" action="javascript:alert(1)"><input type="hidden" name="SAMLResponse" value="x"></form>`,
	} {
		if action, form, ok := autopost.Form(page, []byte(body)); ok {
			t.Errorf("%s read as an auto-submit page: %q %v", name, action, form)
		}
	}
}
