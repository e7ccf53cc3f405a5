// Package mockidp is ssokit's test harness: vendor-faithful mock Okta,
// Azure AD, Google Workspace, OneLogin and JumpCloud identity providers
// (OIDC and SAML, with an attack generator) and a mock Clerk (Backend API,
// hosted sign-in brokering to the mock IdPs, svix-signed webhooks), usable
// from Go tests like net/http/httptest and as the `ssokit mockidp` command.
//
// Production packages never import it. The mock itself is not written yet;
// this package holds only its documentation so far.
package mockidp
