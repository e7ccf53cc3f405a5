// Command ssokit is ssokit's command line: small helpers for operators and
// test suites in any language, and the mock identity platform (ssokit
// mockidp), and the demo: the mock platform with a seeded control plane and
// its dashboard (ssokit demo). Every command prints JSON on stdout;
// diagnostics go to stderr.
//
//	ssokit demo                                # dashboard on http://127.0.0.1:4450, mock on :4451
//	ssokit mockidp --addr 127.0.0.1:0          # prints {"ready":true,"url":"http://127.0.0.1:PORT"}
//	ssokit mockidp --print-config > idp.yaml   # the documented default configuration
//	ssokit issuer pk_test_aGFwcHktb3R0ZXItMTIuY2xlcmsuYWNjb3VudHMuZGV2JA
//	ssokit verify --publishable-key pk_live_... --secret-key sk_live_... "$TOKEN"
//	ssokit verify --issuer https://clerk.example.com --public-key-file jwt.pem - <token.txt
package main
