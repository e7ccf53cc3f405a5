// Package jwtkeys holds the RSA signing keys of the mock identity platform
// (personas and mock Clerk instances): lazily generated keys, a ring with
// rotation and a published JWKS, and compact RS256 signing.
package jwtkeys
