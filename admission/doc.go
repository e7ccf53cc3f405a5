// Package admission decides whether a person may sign in to an app
// organization, and with which role, from the organization's SSO settings:
//
//   - a Clerk organization maps to exactly one app organization;
//   - SSO is allowed only on entitled plans;
//   - the email's domain must be an allowed domain (exact, case-insensitive,
//     IDNA-normalized; "*.acme.com" admits subdomains only, never the apex),
//     so a lookalike in another script or a suffix trick is a different
//     domain;
//   - an unknown person is created just in time with the default role when
//     auto_create_users is on, refused otherwise;
//   - with group_roles the role is recomputed at every login from the IdP
//     groups, else the Clerk role through clerk_role_map, else the default;
//   - require_sso refuses password logins and ends earlier password
//     sessions; disable_api_key_auth refuses the org's API keys.
//
// It also checks passwords (bcrypt, the same cost for unknown accounts) with
// attempt limits behind the Limiter interface. It decides and writes no
// HTTP; package middleware and the control plane adapt it.
//
//	adm, err := admission.New(admission.Config{Store: st})
//	person, err := adm.Admit(ctx, admission.Login{ClerkOrgID: "org_2a...", Email: "ada@acme.com", Groups: groups})
package admission
