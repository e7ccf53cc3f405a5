// Command ssokit is ssokit's command line: small helpers for operators and
// test suites in any language, the mock identity platform (ssokit
// mockidp), the demo: the mock platform with a seeded control plane and
// its dashboard (ssokit demo), and the SQL store's migrations (ssokit
// migrate). demo, mockidp, issuer and verify print JSON on stdout (mockidp
// --print-config prints its YAML configuration); migrate prints text, or
// JSON with --json. Diagnostics go to stderr.
//
//	ssokit demo                                # dashboard on http://127.0.0.1:4450, mock on :4451
//	ssokit mockidp --addr 127.0.0.1:0          # prints {"ready":true,"url":"http://127.0.0.1:PORT"}
//	ssokit mockidp --print-config > idp.yaml   # the documented default configuration
//	ssokit issuer pk_test_aGFwcHktb3R0ZXItMTIuY2xlcmsuYWNjb3VudHMuZGV2JA
//	ssokit verify --publishable-key pk_live_... --secret-key sk_live_... "$TOKEN"
//	ssokit verify --issuer https://clerk.example.com --public-key-file jwt.pem - <token.txt
//	ssokit migrate --store sqlite:./ssokit.db  # applies the missing migrations: "applied 1" per version, or "up to date"
//	SSOKIT_STORE=postgres://… ssokit migrate status --json  # {"migrations": [{"version": 1, "name": "init", "applied": true, "applied_at": …}, …]}
package main
