// Package saml checks the mock's SAML personas against
// russellhaering/gosaml2 as a service provider: every persona's response is
// accepted, and every attack shape of the mock's generator is refused by
// gosaml2 wrapped with a careful user's checks. crewjam/saml, which the
// library itself uses, is checked the same way in mockidp's own tests.
// The other way round, crewjam/saml's IdentityProvider signs people in
// through ssokit's SAML service provider (package idp).
package saml
