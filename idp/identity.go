package idp

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/ssokit/ssokit/sso"
)

// Identity is every login, whatever the protocol and vendor.
type Identity struct {
	// Subject is stable per identity provider: Okta's user ID, Azure's
	// object ID, Google's numeric sub, the SAML NameID where nothing
	// steadier is sent.
	Subject string
	// Email and whether the identity provider vouches for it (the
	// email_verified claim where the vendor sends one; true for addresses
	// from an enterprise directory: SAML assertions, Azure AD, OneLogin).
	Email         string
	EmailVerified bool
	FirstName     string
	LastName      string
	// Groups are names or IDs as the vendor gives them (Azure: object IDs).
	Groups []string
	// IdP is the vendor (okta, azure_ad, ...); ConnectionID the connection.
	IdP          sso.Vendor
	ConnectionID string
	Protocol     sso.Protocol
	// TenantID is Azure AD's tid; HostedDomain Google's hd.
	TenantID     string
	HostedDomain string
	// SAML session details, for single logout.
	NameID, NameIDFormat, SessionIndex string
	// Raw holds every SAML attribute (name -> values) or OIDC claim.
	Raw map[string]any
}

// The sentinels every login refusal wraps; match with errors.Is and read
// the Reason of the *LoginError for the specific check.
var (
	// ErrInvalidResponse: the response or token failed a check.
	ErrInvalidResponse = errors.New("idp: invalid response")
	// ErrReplayed: the assertion or token was already used.
	ErrReplayed = errors.New("idp: replayed")
	// ErrNoLogin: no login of this browser is waiting for the response
	// (state or request tracking missing, mismatched or expired;
	// unsolicited SAML when IdP-initiated login is off).
	ErrNoLogin = errors.New("idp: no login in progress for this response")
	// ErrNotAllowed: a valid identity the connection does not admit
	// (Google hd, Azure tenant).
	ErrNotAllowed = errors.New("idp: identity not allowed by the connection")
	// ErrIdPRefused: the identity provider answered with an error.
	ErrIdPRefused = errors.New("idp: the identity provider refused the login")
	// ErrGroupOverage: Azure AD sent the group overage claim and no group
	// resolver is configured, so the groups are unknown; or, for a SAML
	// assertion (which comes with no user access token), the
	// GraphGroupResolver has no AppCredentials.
	ErrGroupOverage = errors.New("idp: Azure AD group overage and no group resolver configured")
	// ErrReauthenticate: the SAML AuthnInstant is older than
	// SAMLLimits.MaxAuthnAge. Finish has already redirected the browser to
	// the IdP again with ForceAuthn="true" (once per login): the caller
	// writes nothing more to the response. A second stale AuthnInstant is
	// refused with ErrInvalidResponse (ReasonAuthnTooOld) instead.
	ErrReauthenticate = errors.New("idp: the IdP session is too old; sign-in restarted with ForceAuthn")
	// ErrUpstream: the identity provider could not be reached.
	ErrUpstream = errors.New("idp: identity provider unreachable")
	// ErrConfig: the connection's settings are wrong; the message says how.
	ErrConfig = errors.New("idp: connection misconfigured")
)

// Reasons name the specific check a login failed.
const (
	ReasonTooLarge           = "too_large"
	ReasonDoctype            = "doctype"
	ReasonMalformed          = "malformed"
	ReasonSignature          = "signature"
	ReasonUntrustedCert      = "untrusted_certificate"
	ReasonMultipleAssertions = "multiple_assertions"
	ReasonAudience           = "audience"
	ReasonDestination        = "destination"
	ReasonRecipient          = "recipient"
	ReasonInResponseTo       = "in_response_to"
	ReasonExpired            = "expired"
	ReasonNotYetValid        = "not_yet_valid"
	ReasonIssuer             = "issuer"
	ReasonUnsolicited        = "unsolicited"
	ReasonReplay             = "replay"
	ReasonState              = "state"
	ReasonNonce              = "nonce"
	ReasonAtHash             = "at_hash"
	ReasonCode               = "code_rejected"
	ReasonUnknownKey         = "unknown_kid"
	ReasonAlgorithm          = "algorithm"
	ReasonHostedDomain       = "hosted_domain"
	ReasonNoHostedDomain     = "no_hosted_domain"
	ReasonHostedDomainEmail  = "hosted_domain_mismatch"
	ReasonEmailUnverified    = "email_unverified"
	ReasonEmailVerifiedNone  = "email_verified_missing"
	ReasonUserinfo           = "userinfo"
	ReasonUserinfoSubject    = "userinfo_subject"
	ReasonAssertionLifetime  = "assertion_lifetime"
	ReasonAuthnTooOld        = "authn_too_old"
	ReasonTenant             = "tenant"
	ReasonNoSubject          = "no_subject"
	ReasonIdPError           = "idp_error"
	ReasonGroupOverage       = "group_overage"
	ReasonUpstream           = "upstream"
	// ReasonDecryption: the encrypted assertion is not for this service
	// provider's key (the IdP has another certificate for it), does not
	// decrypt, or decrypts to something that is not an assertion the IdP
	// signed: one answer for all of these, which the ciphertext decides,
	// so that the answer is no decryption oracle.
	ReasonDecryption = "decryption"

	// ReasonGroupsLink: an Azure AD SAML groups.link is not Entra's
	// https://graph.windows.net/{tenant}/users/{oid}/getMemberObjects for
	// the assertion's own tenantid and objectidentifier.
	ReasonGroupsLink = "groups_link"
)

// LoginError is a refused login: a Reason for logs, tests and metrics, a
// Detail for operators, and the sentinel it wraps.
type LoginError struct {
	// Reason names the check that refused (one of the Reason constants).
	Reason string
	// Detail says what was found, for operators' logs.
	Detail string
	// Err is the sentinel (ErrInvalidResponse, ErrReplayed, ...).
	Err error
	// Vouched: the refusal came after the identity provider's answer
	// was established as its own (a SAML response or assertion signature
	// verified, an OIDC code exchanged at its token endpoint), so the IdP
	// vouched for what a later check refused. Without it, the answer
	// could be anyone's: a forged or unsigned response, a junk code.
	Vouched bool
}

// Error reads "sentinel (reason): detail".
func (e *LoginError) Error() string { return fmt.Sprintf("%v (%s): %s", e.Err, e.Reason, e.Detail) }

// Unwrap returns the sentinel.
func (e *LoginError) Unwrap() error { return e.Err }

// ReasonOf returns the Reason of a *LoginError in err, or "".
func ReasonOf(err error) string {
	var le *LoginError
	if errors.As(err, &le) {
		return le.Reason
	}
	return ""
}

// Vouched reports whether err is a refusal of an answer the identity
// provider had vouched for (LoginError.Vouched). A log that anyone should
// not be able to fill keeps the others apart.
func Vouched(err error) bool {
	var le *LoginError
	return errors.As(err, &le) && le.Vouched
}

// vouched marks err, a refusal after the IdP's answer verified, as
// Vouched; any other error is returned as it is.
func vouched(err error) error {
	var le *LoginError
	if errors.As(err, &le) {
		le.Vouched = true
	}
	return err
}

func refuse(sentinel error, reason, format string, args ...any) error {
	return &LoginError{Reason: reason, Detail: clip(fmt.Sprintf(format, args...), maxDetail), Err: sentinel}
}

// maxDetail bounds a LoginError's Detail: it quotes what an IdP or a
// request sent, and goes to logs and events.
const maxDetail = 1024

// clip cuts s to at most n bytes, at a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
