package autopost

import (
	"html"
	"net/url"
	"regexp"
	"strings"
)

var (
	postFormAction = regexp.MustCompile(`<form[^>]*method="post"[^>]*action="([^"]+)"`)
	postFormInput  = regexp.MustCompile(`name="(SAMLResponse|RelayState)" value="([^"]*)"`)

	formTag  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form\s*>`)
	inputTag = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attr     = regexp.MustCompile(`(?is)([a-z_:][-a-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>` + "`" + `]+))`)
)

// responseFields are the fields that make a form an OAuth 2.0 / OIDC
// authorization response (OAuth 2.0 Form Post Response Mode): a login
// page's form carries the request's parameters (state, code_challenge...),
// never these.
var responseFields = []string{"code", "id_token", "access_token", "error"}

// Form reads an auto-submit page, as a browser's JavaScript would submit
// it: the form's absolute action (resolved against the page's URL) and its
// fields. It knows two kinds:
//
//   - SAML's HTTP-POST binding: a post form with SAMLResponse and
//     RelayState, of which it returns those two;
//   - OAuth 2.0 Form Post Response Mode (OIDC response_mode=form_post): a
//     post form of hidden fields only, among them code, id_token,
//     access_token or error, of which it returns every hidden field
//     (state, session_state, iss...).
//
// It reports false for anything else (a login page with an email field
// is left to the caller), and when the action is not an http or https URL.
func Form(page *url.URL, body []byte) (string, url.Values, bool) {
	if action, form, ok := samlForm(page, body); ok {
		return action, form, true
	}
	return formPost(page, body)
}

func samlForm(page *url.URL, body []byte) (string, url.Values, bool) {
	m := postFormAction.FindSubmatch(body)
	if m == nil || !postFormInput.Match(body) {
		return "", nil, false
	}
	action, ok := resolve(page, html.UnescapeString(string(m[1])))
	if !ok {
		return "", nil, false
	}
	form := url.Values{}
	for _, f := range postFormInput.FindAllSubmatch(body, -1) {
		form.Set(string(f[1]), html.UnescapeString(string(f[2])))
	}
	return action, form, true
}

// formPost reads the first post form of the page as an OAuth 2.0 form
// post response.
func formPost(page *url.URL, body []byte) (string, url.Values, bool) {
	for _, m := range formTag.FindAllSubmatch(body, -1) {
		fa := attrs(m[1])
		if !strings.EqualFold(fa["method"], "post") {
			continue
		}
		form := url.Values{}
		for _, in := range inputTag.FindAllSubmatch(m[2], -1) {
			ia := attrs(in[1])
			switch strings.ToLower(ia["type"]) {
			case "hidden":
				if ia["name"] != "" {
					form.Add(ia["name"], ia["value"])
				}
			case "submit":
			default: // a field a person fills in: not an auto-submit page
				return "", nil, false
			}
		}
		response := false
		for _, f := range responseFields {
			response = response || form.Has(f)
		}
		if !response {
			return "", nil, false
		}
		action, ok := resolve(page, fa["action"])
		if !ok {
			return "", nil, false
		}
		return action, form, true
	}
	return "", nil, false
}

// attrs reads a tag's attributes, names lowercased, values unescaped.
func attrs(tag []byte) map[string]string {
	a := map[string]string{}
	for _, m := range attr.FindAllSubmatch(tag, -1) {
		name := strings.ToLower(string(m[1]))
		if _, dup := a[name]; dup { // HTML keeps the first
			continue
		}
		a[name] = html.UnescapeString(string(m[2]) + string(m[3]) + string(m[4]))
	}
	return a
}

// resolve makes action absolute against the page's URL; only http and
// https actions are followed (not javascript:, data:...).
func resolve(page *url.URL, action string) (string, bool) {
	u, err := page.Parse(action)
	if err != nil || (!strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https")) || u.Host == "" {
		return "", false
	}
	return u.String(), true
}
