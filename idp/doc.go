// Package idp is the side of ssokit that talks to a customer's identity
// provider: a hardened SAML 2.0 service provider (on crewjam/saml) and an
// OpenID Connect relying party (on go-oidc and x/oauth2), with vendor
// profiles for Okta, Azure AD (Entra ID), Google Workspace, OneLogin and
// JumpCloud, normalizing every login to one Identity.
//
//	conn, err := idp.New(ctx, idp.Connection{
//		ID: "acme", Protocol: sso.SAML, Vendor: sso.Okta,
//		SAML: &idp.SAMLSettings{IDPMetadataURL: oktaMetadataURL,
//			EntityID: "https://app.example.com/saml/metadata", ACSURL: "https://app.example.com/saml/acs"},
//	}, idp.Options{StateKey: key, ReplayCache: shared})
//	// GET /sso/acme:        conn.Start(w, r, "/dashboard", email)
//	// POST /saml/acs:       id, returnTo, err := conn.Finish(w, r)
//
// Every refusal is a *LoginError wrapping one of a few sentinels
// (ErrInvalidResponse, ErrReplayed, ErrNoLogin, ErrNotAllowed,
// ErrIdPRefused, ErrGroupOverage, ErrUpstream) with a Reason naming the
// check. Configuration problems wrap ErrConfig and say what to fix.
// CheckConnection validates a connection on the server (metadata or
// discovery, signing certificates and keys, client credentials) and reports
// each step, signing no one in.
//
// Every URL a tenant's connection names (metadata, discovery, keys, token
// and userinfo endpoints) is fetched through internal/safehttp's guarded
// client: https only, the dialed address checked against loopback,
// private, link-local, CGNAT and other internal ranges, bounded redirects,
// bodies and time; a failure says only which step failed. A SAML
// AuthnInstant older than SAMLLimits.MaxAuthnAge restarts the login once
// with ForceAuthn (Finish returns ErrReauthenticate after redirecting).
// A SAML response signed with SHA-1 (SignatureMethod or DigestMethod) is
// refused with ReasonAlgorithm, the message naming the vendor's setting
// that switches to SHA-256, unless the connection sets
// SAMLSettings.AllowSHA1. Attributes sent without a value (Google's empty
// Attribute, OneLogin's empty AttributeValue) are never an email, a name
// or a group.
//
// It imports nothing of ssokit but the leaf package sso and internal
// packages.
package idp
