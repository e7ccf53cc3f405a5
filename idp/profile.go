package idp

import (
	"net/url"
	"strings"

	"github.com/crewjam/saml"
	"github.com/ssokit/ssokit/sso"
)

// Where each vendor's SAML assertions carry the identity (attribute names;
// "" for the subject means the NameID).
var samlProfiles = map[sso.Vendor]map[string]string{
	sso.Okta:            {"email": "email", "first_name": "firstName", "last_name": "lastName", "groups": "groups"},
	sso.GoogleWorkspace: {"email": "email", "first_name": "firstName", "last_name": "lastName"},
	sso.OneLogin:        {"email": "User.email", "first_name": "User.FirstName", "last_name": "User.LastName", "groups": "memberOf"},
	sso.JumpCloud:       {"email": "email", "first_name": "firstname", "last_name": "lastname", "groups": "memberOf"},
	sso.AzureAD: {
		"subject":    "http://schemas.microsoft.com/identity/claims/objectidentifier",
		"email":      "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
		"first_name": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
		"last_name":  "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
		"groups":     "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
	},
	sso.Generic: {},
}

// Where each vendor's OIDC ID token carries the identity.
var oidcProfiles = map[sso.Vendor]map[string]string{
	sso.Okta:            {"subject": "sub", "email": "email", "first_name": "given_name", "last_name": "family_name", "groups": "groups"},
	sso.AzureAD:         {"subject": "oid", "email": "email", "first_name": "given_name", "last_name": "family_name", "groups": "groups"},
	sso.GoogleWorkspace: {"subject": "sub", "email": "email", "first_name": "given_name", "last_name": "family_name"},
	sso.OneLogin:        {"subject": "sub", "email": "email", "first_name": "given_name", "last_name": "family_name", "groups": "groups"},
	sso.JumpCloud:       {"subject": "sub", "email": "email", "first_name": "given_name", "last_name": "family_name", "groups": "memberOf"},
	sso.Generic:         {"subject": "sub", "email": "email", "first_name": "given_name", "last_name": "family_name", "groups": "groups"},
}

// field is where key is read from: the connection's override, else the
// vendor's profile.
func field(c Connection, profiles map[sso.Vendor]map[string]string, key string) string {
	if n, ok := c.Attributes[key]; ok {
		return n
	}
	return profiles[c.Vendor][key]
}

// samlIdentity maps a validated assertion to an Identity. Vendors send
// attributes they have no value for: Google an Attribute without
// AttributeValue, OneLogin an empty AttributeValue (memberOf of a person
// in no role). An empty or blank value counts as absent: it never becomes
// an email, a name or a group, and Raw lists the attribute with the
// values it really has (none).
func samlIdentity(c Connection, as *saml.Assertion) (*Identity, error) {
	return samlIdentityResolving(c, as, nil)
}

// Azure AD's SAML attribute names for the overage indicator and the
// person's object ID.
const (
	azureGroupsLink = "http://schemas.microsoft.com/claims/groups.link"
	azureObjectID   = "http://schemas.microsoft.com/identity/claims/objectidentifier"
)

// samlIdentityResolving is samlIdentity that, given resolve, reads the
// groups of an Azure AD assertion carrying groups.link (more than 150
// groups) through it; without resolve such an assertion is refused with
// ErrGroupOverage.
func samlIdentityResolving(c Connection, as *saml.Assertion, resolve func(*Identity) ([]string, error)) (*Identity, error) {
	attrs := map[string][]string{}
	for _, st := range as.AttributeStatements {
		for _, a := range st.Attributes {
			if _, ok := attrs[a.Name]; !ok {
				attrs[a.Name] = []string{}
			}
			for _, v := range a.Values {
				if strings.TrimSpace(v.Value) != "" {
					attrs[a.Name] = append(attrs[a.Name], v.Value)
				}
			}
		}
	}
	first := func(key string) string {
		if vs := attrs[field(c, samlProfiles, key)]; len(vs) > 0 {
			return strings.TrimSpace(vs[0])
		}
		return ""
	}
	var overageOID string // set when Azure AD sent groups.link
	id := &Identity{IdP: c.Vendor, ConnectionID: c.ID, Protocol: sso.SAML, EmailVerified: true,
		FirstName: first("first_name"), LastName: first("last_name"), Raw: map[string]any{}}
	for k, v := range attrs {
		id.Raw[k] = v
	}
	if as.Subject != nil && as.Subject.NameID != nil {
		id.NameID, id.NameIDFormat = as.Subject.NameID.Value, as.Subject.NameID.Format
	}
	for _, st := range as.AuthnStatements {
		id.SessionIndex = st.SessionIndex
	}
	id.Subject = first("subject")
	if id.Subject == "" {
		id.Subject = id.NameID
	}
	id.Email = first("email")
	if id.Email == "" && strings.Contains(id.NameID, "@") &&
		(id.NameIDFormat == "" || id.NameIDFormat == string(saml.EmailAddressNameIDFormat) || id.NameIDFormat == string(saml.UnspecifiedNameIDFormat)) {
		id.Email = id.NameID
	}
	if c.Vendor == sso.AzureAD {
		id.TenantID = strings.TrimSpace(first2(attrs["http://schemas.microsoft.com/identity/claims/tenantid"]))
		if id.Email == "" {
			id.Email = strings.TrimSpace(first2(attrs["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"]))
		}
		if link := attrs[azureGroupsLink]; len(link) > 0 {
			overageOID = strings.TrimSpace(first2(attrs[azureObjectID]))
			if err := checkGroupsLink(link, id.TenantID, overageOID); err != nil {
				return nil, err
			}
		}
	}
	for _, g := range attrs[field(c, samlProfiles, "groups")] {
		id.Groups = append(id.Groups, groupValues(c.Vendor, g)...)
	}
	if id.Subject == "" {
		return nil, refuse(ErrInvalidResponse, ReasonNoSubject, "the assertion names no subject")
	}
	if overageOID != "" {
		if resolve == nil {
			return nil, refuse(ErrGroupOverage, ReasonGroupOverage,
				"Azure AD sent groups.link instead of the groups (more than 150); configure a group resolver (idp.GraphGroupResolver with AppCredentials) to read them from Microsoft Graph")
		}
		// The link is never fetched: the resolver calls its configured
		// Graph about the assertion's own object ID.
		who := *id
		who.Subject = overageOID
		groups, err := resolve(&who)
		if err != nil {
			return nil, err
		}
		id.Groups = groups
	}
	return id, nil
}

// checkGroupsLink checks Azure AD's SAML groups overage indicator against
// the assertion: Entra sends exactly one value,
// https://graph.windows.net/{tenant id}/users/{object id}/getMemberObjects
// (Microsoft's "SAML token claims reference"), and its tenant and object
// ID must be the assertion's tenantid and objectidentifier. The link is
// only parsed, never fetched; its host is not trusted for anything.
func checkGroupsLink(link []string, tenant, oid string) error {
	if len(link) != 1 {
		return refuse(ErrInvalidResponse, ReasonGroupsLink, "groups.link has %d values, want one", len(link))
	}
	if tenant == "" || oid == "" {
		return refuse(ErrInvalidResponse, ReasonGroupsLink, "groups.link in an assertion without tenantid and objectidentifier")
	}
	if !isGUID(tenant) || !isGUID(oid) {
		// Entra writes both as GUIDs; Graph would also take a UPN for
		// the object, and an assertion must not pick someone by name.
		return refuse(ErrInvalidResponse, ReasonGroupsLink, "tenantid %q or objectidentifier %q is not a GUID", tenant, oid)
	}
	u, err := url.Parse(strings.TrimSpace(link[0]))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.RawPath != "" {
		return refuse(ErrInvalidResponse, ReasonGroupsLink, "groups.link %q is not an https URL without query or escapes", link[0])
	}
	parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	if len(parts) != 4 || parts[1] != "users" || parts[3] != "getMemberObjects" {
		return refuse(ErrInvalidResponse, ReasonGroupsLink, "groups.link %q is not .../{tenant}/users/{oid}/getMemberObjects", link[0])
	}
	if !strings.EqualFold(parts[0], tenant) {
		return refuse(ErrInvalidResponse, ReasonGroupsLink, "groups.link names tenant %q, the assertion's tenantid is %q", parts[0], tenant)
	}
	if !strings.EqualFold(parts[2], oid) {
		return refuse(ErrInvalidResponse, ReasonGroupsLink, "groups.link names object %q, the assertion's objectidentifier is %q", parts[2], oid)
	}
	return nil
}

// isGUID reports whether s is a GUID in its 8-4-4-4-12 hex form.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func first2(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// groupValues reads one group value: OneLogin joins the groups of a
// parameter that is not multi-valued with ";" (split here); any other
// vendor's value is one group, whatever it holds, so that a group named
// "Book club; admins" is not also "admins".
func groupValues(v sso.Vendor, g string) []string {
	if v == sso.OneLogin {
		return splitGroups(g)
	}
	if g = strings.TrimSpace(g); g != "" {
		return []string{g}
	}
	return nil
}

// splitGroups splits OneLogin's ;-joined group strings.
func splitGroups(v string) []string {
	var out []string
	for g := range strings.SplitSeq(v, ";") {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	return out
}

// sendsEmailVerified reports whether the vendor's ID tokens carry
// email_verified: Okta, Google and JumpCloud do (and a generic IdP is
// held to it); Entra ID and OneLogin never send it, and their addresses
// come from the customer's directory.
func sendsEmailVerified(v sso.Vendor) bool {
	return v != sso.AzureAD && v != sso.OneLogin
}

// emailVerifiedClaim reads email_verified: a boolean, or the strings
// "true" / "false" some IdPs send. A null claim is absent; any other
// value is present and not true.
func emailVerifiedClaim(claims map[string]any) (verified, present bool) {
	switch v := claims["email_verified"].(type) {
	case nil:
		return false, false
	case bool:
		return v, true
	case string:
		return v == "true", true
	}
	return false, true
}

// oidcIdentity maps verified ID token claims to an Identity.
func oidcIdentity(c Connection, claims map[string]any) *Identity {
	str := func(key string) string {
		s, _ := claims[field(c, oidcProfiles, key)].(string)
		return strings.TrimSpace(s)
	}
	id := &Identity{IdP: c.Vendor, ConnectionID: c.ID, Protocol: sso.OIDC, Raw: claims,
		Subject: str("subject"), Email: str("email"), FirstName: str("first_name"), LastName: str("last_name")}
	if id.Subject == "" {
		id.Subject, _ = claims["sub"].(string)
	}
	verified, present := emailVerifiedClaim(claims)
	id.EmailVerified = verified || (!present && !sendsEmailVerified(c.Vendor) && id.Email != "")
	if c.Vendor == sso.AzureAD {
		id.TenantID, _ = claims["tid"].(string)
		if id.Email == "" {
			id.Email, _ = claims["preferred_username"].(string)
		}
		// xms_edov, when sent, is Entra's word on the address
		// (checkEmailDomainOwner).
		if edov, ok := claims["xms_edov"]; ok {
			id.EmailVerified = id.Email != "" && edovTrue(edov)
		}
	}
	id.HostedDomain, _ = claims["hd"].(string)
	switch g := claims[field(c, oidcProfiles, "groups")].(type) {
	case []any:
		for _, v := range g {
			if s, ok := v.(string); ok && s != "" {
				id.Groups = append(id.Groups, s)
			}
		}
	case string:
		id.Groups = groupValues(c.Vendor, g)
	}
	return id
}
