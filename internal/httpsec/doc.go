// Package httpsec is the one place the servers of this module (the control
// plane, its dashboard, the mock IdP and the mock Clerk) decide the
// security headers of their responses, and the check their tests run on
// every route.
//
// Every response starts from Defaults: a Content-Security-Policy that
// allows nothing (default-src 'none', frame-ancestors 'none', base-uri
// 'none', form-action 'none'), Referrer-Policy no-referrer,
// X-Content-Type-Options nosniff, X-Frame-Options DENY and Cache-Control
// no-store. Handler sets them before the handler runs, so a page that
// forgets its headers still has the strictest ones; a page that needs more
// (inline styles, an auto-submit script, a form) sets its own policy with
// Page, built by CSP, which keeps frame-ancestors and base-uri at 'none'
// and allows scripts only by hash.
//
// Mux records the patterns registered on it, so a test can walk every
// route of a server without a hand-written list; Audit checks one
// response the way such a walk does.
package httpsec
