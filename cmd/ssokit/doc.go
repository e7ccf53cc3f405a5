// Command ssokit is ssokit's command line: small helpers for operators and
// test suites in any language. Later it also runs the demo control plane
// (ssokit demo) and the mock identity platform (ssokit mockidp). Every
// command prints JSON on stdout; diagnostics go to stderr.
//
//	ssokit issuer pk_test_aGFwcHktb3R0ZXItMTIuY2xlcmsuYWNjb3VudHMuZGV2JA
//	ssokit verify --publishable-key pk_live_... --secret-key sk_live_... "$TOKEN"
//	ssokit verify --issuer https://clerk.example.com --public-key-file jwt.pem - <token.txt
package main
