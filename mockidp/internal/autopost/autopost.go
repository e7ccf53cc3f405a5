package autopost

import (
	"html"
	"net/url"
	"regexp"
)

var (
	postFormAction = regexp.MustCompile(`<form[^>]*method="post"[^>]*action="([^"]+)"`)
	postFormInput  = regexp.MustCompile(`name="(SAMLResponse|RelayState)" value="([^"]*)"`)
)

// Form reads a SAML auto-submit page: the form's absolute action
// (resolved against the page's URL) and its SAMLResponse / RelayState.
func Form(page *url.URL, body []byte) (string, url.Values, bool) {
	m := postFormAction.FindSubmatch(body)
	if m == nil || !postFormInput.Match(body) {
		return "", nil, false
	}
	action, err := page.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		return "", nil, false
	}
	form := url.Values{}
	for _, f := range postFormInput.FindAllSubmatch(body, -1) {
		form.Set(string(f[1]), html.UnescapeString(string(f[2])))
	}
	return action.String(), form, true
}
