// Package mockidp is ssokit's test harness: mock identity providers that
// behave, as a relying party sees them, like Okta, Azure AD (Entra ID),
// Google Workspace, OneLogin and JumpCloud, so SSO code can be tested end to
// end with no network and no accounts.
//
// A Server is a value like httptest.Server. One server hosts many personas,
// each under its own path prefix with its vendor's URL layout, keys, users,
// clients, clock and faults:
//
//	srv := mockidp.Start(t, mockidp.DefaultConfig()) // closed when t ends
//	okta := srv.Persona("okta")
//	provider, _ := oidc.NewProvider(oidc.ClientContext(ctx, srv.Client()), okta.Issuer())
//	// ... AuthCodeURL(state, oidc.Nonce(n), oauth2.S256ChallengeOption(v),
//	//         oauth2.SetAuthURLParam("login_hint", "alice@acme.test"))
//	// redirects straight back with a code: no login page in a test.
//	okta.InjectFault(mockidp.FaultWrongAudience, 1) // the next ID token is wrongly addressed
//
// Each persona is also a SAML 2.0 identity provider answering in its
// vendor's exact wire shape (crewjam/saml's IdentityProvider runs the
// protocol; responses are built and signed here). Service providers register
// by metadata or entity ID and ACS; Persona.SAMLResponse hands a test the
// base64 SAMLResponse without a browser, and Persona.NextResponse arms an
// attack (XSW1-8, comment injection, replay, ...) that a correct service
// provider must refuse:
//
//	okta.RegisterServiceProvider(mockidp.ServiceProviderConfig{EntityID: spID, ACSURL: acs})
//	okta.NextResponse(mockidp.XSW3)
//	b64, _ := okta.SAMLResponse(spID, "alice@acme.test", requestID) // must be refused
//
// The default configuration (DefaultConfig, printed by `ssokit mockidp
// --print-config`) has personas okta, azure, google, onelogin and
// jumpcloud with a few users and a client each. Users, clients, keys,
// clocks and faults change at run time through Persona's methods or the
// JSON admin API under /admin/v1/; GET / lists everything.
//
// The server also hosts the mock Clerk instances of its configuration
// (package mockclerk: Backend API, hosted sign-in brokering to the
// personas, session tokens, webhooks); Server.Clerk returns one. Browse and
// HeadlessLogin drive a login without a browser.
//
// `ssokit mockidp` serves the same for test suites in any language.
// Production packages never import mockidp.
package mockidp
