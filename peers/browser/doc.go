// Package browser drives ssokit's demo (package mockidp/demo: the mock
// identity platform and a seeded control plane with its dashboard) in a
// real Chromium through chromedp, as a person would: SSO through Okta SAML
// and Azure AD OIDC via the mock Clerk, require_sso switched on in the
// dashboard, a refused domain. TestDirectConnectionsInABrowser signs in
// through direct SAML and OIDC connections on production-like sites: the
// app at https://app.example.test, the SAML IdP at https://idp.okta.test
// (both on 127.0.0.1 through Chromium's --host-resolver-rules) and the
// OIDC IdP at https://localhost, over TLS from the mocks' CAs (trusted by
// their SPKI hashes), so the SAML response is a real
// cross-site POST; it checks the Secure, HttpOnly and SameSite attributes
// of the app's cookies. It lives in the peers module so that chromedp
// stays out of the library's go.mod.
//
// The test finds Chromium through $SSOKIT_CHROMIUM, then chromium,
// chromium-browser or google-chrome on PATH. Without one it skips with the
// install command (apt-get install -y --no-install-recommends chromium) on
// a developer's machine and fails when CI is set. Its screenshots go to
// t.ArtifactDir: run it with -artifacts (scripts/test.sh does, and copies
// them to test-artifacts/peers/browser/TestDemoInABrowser/).
package browser
