// Package state is ssokit's one codec for what a browser carries through
// a redirect flow (an SSO login, a single logout): a payload signed with
// HMAC-SHA256 under a required key, expiring, and bound to the browser
// that started the flow by a random nonce the caller keeps in a cookie
// (or gets back as the flow's own handle, as SAML's RelayState).
//
//	codec, err := state.New(state.Config{Key: key}) // key: 32+ random bytes, no default
//	nonce, _ := codec.NewNonce()                   // set as an HttpOnly cookie
//	v, _ := codec.Encode(state.Payload{ConnectionID: "acme", ReturnTo: "/dashboard", Nonce: nonce})
//	// ... the IdP answers with v (or v sits in a cookie named by the flow's handle)
//	p, err := codec.Decode(v, nonceFromCookie) // ErrInvalid, ErrExpired, ErrWrongBrowser
//
// The return-to path is checked both ways by LocalPath: only a path of
// this site, never "//host", "/\host", a scheme, a control character or
// any of them percent-encoded. The payload also carries the SAML
// AuthnRequest ID, the OIDC nonce and PKCE verifier, and the IDs of the
// LogoutRequests sent to this browser's IdP, so a LogoutResponse is only
// accepted in answer to one of them.
package state
