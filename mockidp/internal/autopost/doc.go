// Package autopost reads the auto-submit pages of SAML's HTTP-POST
// binding, so headless clients of the mock platform can do what a browser
// does with JavaScript: submit the form.
package autopost
