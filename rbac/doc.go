// Package rbac decides what a role may do: roles, their ranking,
// permissions, and the rules that turn identity-provider groups into a role.
// It is pure policy and knows nothing of HTTP; package middleware adapts it.
//
// It imports nothing of ssokit. The policy itself is not written yet; this
// package holds only its documentation so far.
package rbac
