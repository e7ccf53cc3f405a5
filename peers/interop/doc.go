// Package interop holds ssokit's mock identity platform checked against
// independent implementations: saml drives russellhaering/gosaml2 as a
// service provider (crewjam/saml's service provider is driven in mockidp's
// own tests); python drives Debian's python3-saml in strict mode with
// schema validation; node drives the Node.js packages
// openid-client, jose, svix, samlify (with an xmllint schema validator;
// as a service provider, and as the identity provider of an ssokit SAML
// connection), @node-saml/node-saml and Clerk's @clerk/backend (the npm
// project at interop/node of the repository root), and has ssokit's OIDC
// relying party sign in through panva's oidc-provider; oidc has it sign in
// through oauth2-proxy/mockoidc, and saml through crewjam/saml's
// IdentityProvider; captures compares the mock's SAML responses with real
// vendor captures from crewjam/saml's and gosaml2's testdata.
package interop
