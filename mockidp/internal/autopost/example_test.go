package autopost_test

import (
	"fmt"
	"net/url"

	"github.com/ssokit/ssokit/mockidp/internal/autopost"
)

// Read an identity provider's auto-submit page as a headless browser.
func ExampleForm() {
	page, _ := url.Parse("https://idp.example/sso")
	body := []byte(`<form method="post" action="https://app.example/saml/acs">
<input type="hidden" name="SAMLResponse" value="PHNhbWxwOlJlc3BvbnNl&#43;">
<input type="hidden" name="RelayState" value="abc"></form>`)
	action, form, ok := autopost.Form(page, body)
	fmt.Println(ok, action, form.Get("SAMLResponse"), form.Get("RelayState"))
	// Output:
	// true https://app.example/saml/acs PHNhbWxwOlJlc3BvbnNl+ abc
}

// Read an OIDC response_mode=form_post page: every hidden field is posted.
func ExampleForm_formPost() {
	page, _ := url.Parse("https://idp.example/oauth2/v1/authorize")
	body := []byte(`<form method="post" action="https://app.example/callback">
<input type="hidden" name="code" value="c1"/>
<input type="hidden" name="state" value="st"/>
</form><script>document.forms[0].submit();</script>`)
	action, form, ok := autopost.Form(page, body)
	fmt.Println(ok, action, form.Encode())
	// Output:
	// true https://app.example/callback code=c1&state=st
}
