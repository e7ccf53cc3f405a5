// Package dashboard is a small server-rendered dashboard in front of the
// control-plane API of package controlplane: "Sign in with SSO" by email or
// a password sign-in; then whoami; for an organization's admins its SSO
// status, its settings (require_sso, API keys disabled) and its API keys.
// ssokit demo runs it.
//
// The dashboard calls the API through the Go client of package client,
// in-process, with the browser's cookies: it uses exactly the API a script
// would, and holds no credential logic of its own. Build the API with
// controlplane.New (passing ErrorPage so refused sign-ins render as pages
// in the same style), then the dashboard around it:
//
//	cp, err := controlplane.New(controlplane.Config{AppURL: appURL, StateKey: stateKey, ..., ErrorPage: dashboard.ErrorPage})
//	d, err := dashboard.New(dashboard.Config{API: cp, AppURL: appURL})
//	go cp.Run(ctx)
//	http.ListenAndServe(addr, d) // the dashboard at /, the API under /auth/, /v1/, /webhooks/, /.well-known/
//
// Its forms are guarded by http.CrossOriginProtection; every page carries
// nosniff, DENY framing and a same-origin referrer policy.
package dashboard
