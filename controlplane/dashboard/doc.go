// Package app is the example control plane that ssokit demo runs: a small
// server-rendered dashboard ("Sign in with SSO" by email, then whoami, the
// organization's SSO status and settings for admins, API keys) in front of
// the control-plane API of package controlplane, with Clerk webhooks.
//
// The dashboard calls the API through the Go client, in-process, with the
// browser's cookies: it uses exactly the API a script would.
package app
