// Package interop holds ssokit's mock identity platform checked against
// independent implementations: saml drives russellhaering/gosaml2 as a
// service provider, node drives the Node.js packages openid-client, jose
// and svix (the npm project at interop/node of the repository root).
package interop
