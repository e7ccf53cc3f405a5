// Package appsession is the application's own session: a short JWT (RS256
// or EdDSA) issued once a person is admitted, carried in an HTTP-only
// cookie, verified on every request, revocable by its ID, and published as
// a JWKS so other services can verify it too.
//
// Tokens are made and checked with golang-jwt. Before golang-jwt decodes a
// token, its header and claims must pass a strict JSON parse that refuses
// duplicate member names and names that differ only in case (which
// encoding/json would resolve silently, letting {"role":"viewer",
// "ROLE":"admin"} mean whatever the decoder picks). The algorithm is pinned
// to the key the kid names.
//
// Key rotation: Config.Keys lists the signing key first and the keys still
// accepted after it; a key dropped from the list ends its sessions.
//
//	m, err := appsession.New(appsession.Config{
//		Keys:        []appsession.Key{key},  // ParseKeyPEM / ParseKeyJWK
//		Issuer:      "https://app.example.com",
//		Revocations: st,                     // e.g. a *store.Memory
//	})
//	tok, exp, err := m.Issue(appsession.Claims{Subject: userID, OrgID: orgID, Role: "editor", AuthMethod: "sso"})
//	m.SetCookie(w, tok, exp)
package appsession
