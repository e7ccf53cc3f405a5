package api

// SAMLServiceProvider is GET /v1/organizations/{org}/sso/saml's answer:
// the app's side of the organization's direct SAML connection, which the
// organization's IdP administrator enters in the IdP (or registers from
// MetadataURL alone).
type SAMLServiceProvider struct {
	// EntityID is the app's SAML entity ID for this connection (the
	// audience of the IdP's assertions).
	EntityID string `json:"entity_id"`
	// ACSURL is the Assertion Consumer Service URL the IdP posts its
	// responses to (HTTP-POST binding).
	ACSURL string `json:"acs_url"`
	// SLOURL receives logout responses; absent when single logout is off.
	SLOURL string `json:"slo_url,omitempty"`
	// MetadataURL serves the same as SAML metadata, publicly
	// (Content-Type application/samlmetadata+xml).
	MetadataURL string `json:"metadata_url"`
	// SigningCertificatePEM is the certificate the app signs its
	// AuthnRequests with (and decrypts encrypted assertions with); absent
	// when the app does not sign.
	SigningCertificatePEM string `json:"signing_certificate_pem,omitempty"`
}
