// Package autopost reads auto-submit pages, those of SAML's HTTP-POST
// binding and of OAuth 2.0 Form Post Response Mode (OIDC
// response_mode=form_post), so headless clients of the mock platform can
// do what a browser does with JavaScript: submit the form.
package autopost
