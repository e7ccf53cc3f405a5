// Package python checks the mock's SAML personas against OneLogin's
// python3-saml (Debian's python3-onelogin-saml2, run with /usr/bin/python3)
// as a strict service provider with schema validation: sp.py, driven over
// stdin and stdout, builds the AuthnRequest and processes the response the
// mock posts back.
package python
