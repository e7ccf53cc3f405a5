package mockidp

import (
	"slices"
	"sort"
	"time"

	"github.com/ssokit/ssokit/mockidp/internal/armed"
	"github.com/ssokit/ssokit/mockidp/mockclerk"
)

// Fault is a misbehaviour a persona can be switched into, for its next N
// matching events or until cleared. Each fault acts at one site: the
// authorization endpoint, the token endpoint, the ID token it mints, or the
// JWKS endpoint.
type Fault string

// The OIDC faults.
const (
	FaultIDTokenExpired   Fault = "id_token_expired"    // exp an hour ago
	FaultIDTokenNotYet    Fault = "id_token_nbf_future" // nbf and iat an hour ahead
	FaultWrongAudience    Fault = "wrong_aud"           // aud is another client
	FaultWrongIssuer      Fault = "wrong_iss"           // iss is another issuer
	FaultBadSignature     Fault = "bad_signature"       // signature bytes altered
	FaultUnpublishedKey   Fault = "unpublished_key"     // signed by a key not in the JWKS
	FaultAlgNone          Fault = "alg_none"            // unsigned, alg none
	FaultMissingNonce     Fault = "missing_nonce"       // nonce left out
	FaultWrongNonce       Fault = "wrong_nonce"         // nonce replaced
	FaultWrongAtHash      Fault = "wrong_at_hash"       // at_hash of another access token
	FaultKeyRotated       Fault = "key_rotated"         // keys rotate without notice before signing
	FaultTokenError500    Fault = "token_500"           // token endpoint answers 500
	FaultTokenSlow        Fault = "token_slow"          // token endpoint answers after 3 s
	FaultTokenInvalidJSON Fault = "token_invalid_json"  // token endpoint answers malformed JSON
	FaultJWKSUnavailable  Fault = "jwks_unavailable"    // JWKS answers 503
	FaultJWKSSlow         Fault = "jwks_slow"           // JWKS answers after 3 s
	FaultAccessDenied     Fault = "access_denied"       // authorization endpoint redirects with error=access_denied
)

// The SAML attacks: each makes the persona's next SAML response (or every
// one, until cleared) a known-bad shape a service provider must refuse.
const (
	SAMLExpired           Fault = "saml_expired"
	SAMLNotYetValid       Fault = "saml_not_yet_valid"
	SAMLWrongAudience     Fault = "saml_wrong_audience"
	SAMLWrongDestination  Fault = "saml_wrong_destination"
	SAMLWrongRecipient    Fault = "saml_wrong_recipient"
	SAMLWrongInResponseTo Fault = "saml_wrong_in_response_to"
	SAMLUnsigned          Fault = "saml_unsigned"
	SAMLTampered          Fault = "saml_tampered"
	SAMLUntrustedCert     Fault = "saml_untrusted_cert"
	XSW1                  Fault = "xsw1"
	XSW2                  Fault = "xsw2"
	XSW3                  Fault = "xsw3"
	XSW4                  Fault = "xsw4"
	XSW5                  Fault = "xsw5"
	XSW6                  Fault = "xsw6"
	XSW7                  Fault = "xsw7"
	XSW8                  Fault = "xsw8"
	SAMLTwoAssertions     Fault = "saml_two_assertions"
	SAMLCommentInjection  Fault = "saml_comment_injection"
	SAMLDoctype           Fault = "saml_doctype"
	SAMLReplay            Fault = "saml_replay"
	SAMLOversized         Fault = "saml_oversized"
)

// FaultInfo describes a fault for GET /admin/v1/faults and the README.
type FaultInfo struct {
	// ID names the fault in InjectFault and the admin API.
	ID Fault `json:"id"`
	// Site is where it acts: an endpoint, a token or a response.
	Site string `json:"site"`
	// Description says what the fault does, for people.
	Description string `json:"description"`
}

type faultSite string

const (
	siteAuthorize faultSite = "authorize"
	siteToken     faultSite = "token"
	siteIDToken   faultSite = "id_token"
	siteJWKS      faultSite = "jwks"
	siteSAML      faultSite = "saml_response"
)

var faultCatalog = map[Fault]FaultInfo{
	FaultIDTokenExpired:   {Site: string(siteIDToken), Description: "ID token expired an hour ago"},
	FaultIDTokenNotYet:    {Site: string(siteIDToken), Description: "ID token nbf and iat an hour in the future"},
	FaultWrongAudience:    {Site: string(siteIDToken), Description: "ID token aud is another client"},
	FaultWrongIssuer:      {Site: string(siteIDToken), Description: "ID token iss is another issuer"},
	FaultBadSignature:     {Site: string(siteIDToken), Description: "ID token signature altered"},
	FaultUnpublishedKey:   {Site: string(siteIDToken), Description: "ID token signed by a key the JWKS does not publish"},
	FaultAlgNone:          {Site: string(siteIDToken), Description: "ID token unsigned with alg none"},
	FaultMissingNonce:     {Site: string(siteIDToken), Description: "ID token without the nonce"},
	FaultWrongNonce:       {Site: string(siteIDToken), Description: "ID token with another nonce"},
	FaultWrongAtHash:      {Site: string(siteIDToken), Description: "ID token whose at_hash is another access token's (vendors that send at_hash)"},
	FaultKeyRotated:       {Site: string(siteIDToken), Description: "signing key rotated without notice before the ID token is signed (a correct relying party refetches the JWKS and accepts)"},
	FaultTokenError500:    {Site: string(siteToken), Description: "token endpoint answers 500 with an HTML body"},
	FaultTokenSlow:        {Site: string(siteToken), Description: "token endpoint answers after 3 seconds"},
	FaultTokenInvalidJSON: {Site: string(siteToken), Description: "token endpoint answers 200 with malformed JSON"},
	FaultJWKSUnavailable:  {Site: string(siteJWKS), Description: "JWKS endpoint answers 503"},
	FaultJWKSSlow:         {Site: string(siteJWKS), Description: "JWKS endpoint answers after 3 seconds"},
	FaultAccessDenied:     {Site: string(siteAuthorize), Description: "authorization endpoint redirects back with error=access_denied"},

	SAMLExpired:           {Site: string(siteSAML), Description: "IssueInstant ten minutes ago, Conditions and SubjectConfirmationData expired five minutes ago"},
	SAMLNotYetValid:       {Site: string(siteSAML), Description: "IssueInstant and NotBefore minutes in the future"},
	SAMLWrongAudience:     {Site: string(siteSAML), Description: "Audience is another service provider (signed)"},
	SAMLWrongDestination:  {Site: string(siteSAML), Description: "Response Destination is another ACS (signed)"},
	SAMLWrongRecipient:    {Site: string(siteSAML), Description: "SubjectConfirmationData Recipient is another ACS (signed)"},
	SAMLWrongInResponseTo: {Site: string(siteSAML), Description: "InResponseTo names another request (signed)"},
	SAMLUnsigned:          {Site: string(siteSAML), Description: "neither Response nor Assertion signed"},
	SAMLTampered:          {Site: string(siteSAML), Description: "NameID changed after signing"},
	SAMLUntrustedCert:     {Site: string(siteSAML), Description: "signed by a fresh key whose certificate is carried in KeyInfo"},
	XSW1:                  {Site: string(siteSAML), Description: "XML signature wrapping 1 (SAML Raider): signed Response cloned into its own Signature, outer Response edited"},
	XSW2:                  {Site: string(siteSAML), Description: "XML signature wrapping 2: signed Response cloned before its Signature, outer Response edited"},
	XSW3:                  {Site: string(siteSAML), Description: "XML signature wrapping 3: edited unsigned Assertion copy before the signed one"},
	XSW4:                  {Site: string(siteSAML), Description: "XML signature wrapping 4: signed Assertion moved inside an edited unsigned copy"},
	XSW5:                  {Site: string(siteSAML), Description: "XML signature wrapping 5: signed Assertion edited in place, unmodified unsigned copy appended"},
	XSW6:                  {Site: string(siteSAML), Description: "XML signature wrapping 6: signed Assertion edited in place, unmodified copy inside its Signature"},
	XSW7:                  {Site: string(siteSAML), Description: "XML signature wrapping 7: edited unsigned copy inside Extensions before the Assertion (an SP must return the original NameID)"},
	XSW8:                  {Site: string(siteSAML), Description: "XML signature wrapping 8: signed Assertion edited in place, unmodified copy inside Signature/Object"},
	SAMLTwoAssertions:     {Site: string(siteSAML), Description: "a second, edited, unsigned Assertion after the signed one (CVE-2022-41912 shape)"},
	SAMLCommentInjection:  {Site: string(siteSAML), Description: "NameID alice@acme.test.evil.test signed, a comment injected after alice@acme.test"},
	SAMLDoctype:           {Site: string(siteSAML), Description: "DOCTYPE with entity declarations, an entity used in the NameID"},
	SAMLReplay:            {Site: string(siteSAML), Description: "the previous response to the same service provider, verbatim"},
	SAMLOversized:         {Site: string(siteSAML), Description: "a 1.5 MiB comment inside the Response (signatures stay valid)"},
}

// slowFaultDelay is how long the *_slow faults hold a response.
const slowFaultDelay = 3 * time.Second

// Faults lists every fault a persona or a mock Clerk instance can be
// switched into.
func Faults() []FaultInfo {
	out := make([]FaultInfo, 0, len(faultCatalog))
	for id, f := range faultCatalog {
		f.ID = id
		out = append(out, f)
	}

	for _, f := range mockclerk.Faults() {
		out = append(out, FaultInfo{ID: Fault(f.ID), Site: f.Site, Description: f.Description})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// faultSet tracks armed faults: remaining uses, or -1 for until cleared.
type faultSet = armed.Set[Fault]

// siteOf is where a fault fires.
func siteOf(f Fault) string { return faultCatalog[f].Site }

// SAMLAttacks lists the SAML response attacks (the faults whose site is
// the SAML response), in ID order: what a service provider's test hands
// it one by one.
func SAMLAttacks() []FaultInfo {
	var out []FaultInfo
	for _, f := range Faults() {
		if f.Site == string(siteSAML) {
			out = append(out, f)
		}
	}
	return out
}

func hasFault(fs []Fault, f Fault) bool { return slices.Contains(fs, f) }
