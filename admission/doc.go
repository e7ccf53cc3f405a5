// Package admission decides whether a person may sign in to an app
// organization, and with which role, from the organization's SSO settings:
//
//   - a Clerk organization maps to exactly one app organization;
//   - SSO is allowed only on entitled plans;
//   - every email is reduced to one canonical form (CanonicalEmail) before
//     the domain check, the store and every lookup; an address not written
//     in that form, up to letter case, is refused rather than mapped;
//   - the email's domain must be an allowed domain (exact, case-insensitive,
//     IDNA-normalized; "*.acme.com" admits subdomains only, never the apex),
//     so a lookalike in another script or a suffix trick is a different
//     domain;
//   - an unknown person is created just in time with the default role when
//     auto_create_users is on, refused otherwise; the login's subject (the
//     Clerk user, or the IdP's sub or NameID) is bound at the first login
//     and another subject for the same email is refused (subject_mismatch);
//   - with group_roles the role is recomputed at every login from the IdP
//     groups, else the Clerk role through clerk_role_map, else the default;
//   - require_sso refuses password logins and ends earlier password
//     sessions; disable_api_key_auth refuses the org's API keys.
//
// It also checks passwords (bcrypt, the same cost for unknown accounts) with
// attempt limits behind the Limiter interface (per account, and per client
// address with IPv6 counted per /64: ClientKey), and changes a role
// together with the revocation of the person's sessions (ChangeRole). A
// store failure is always ssoerr.ErrUpstream, never an unknown person. It decides and writes no
// HTTP; package middleware and the control plane adapt it.
//
//	adm, err := admission.New(admission.Config{Store: st})
//	person, err := adm.Admit(ctx, admission.Login{ClerkOrgID: "org_2a...", Email: "ada@acme.com", Groups: groups})
package admission
