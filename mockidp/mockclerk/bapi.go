package mockclerk

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ssokit/ssokit/sso"
)

// clerkError answers in Clerk's error shape.
func clerkError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{
		"errors":         []map[string]any{{"code": code, "message": msg, "long_message": msg, "meta": map[string]any{}}},
		"clerk_trace_id": randHex(16),
	})
}

func orJSONMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func (c *Clerk) orgJSONLocked(o *cOrg) map[string]any {
	return map[string]any{"object": "organization", "id": o.ID, "name": o.Name, "slug": o.Slug, "image_url": "",
		"has_image": false, "max_allowed_memberships": o.MaxMemberships,
		"admin_delete_enabled": o.AdminDelete, "public_metadata": orJSONMap(o.PublicMetadata),
		"private_metadata": orJSONMap(o.PrivateMetadata), "created_by": o.CreatedBy, "created_at": o.Created, "updated_at": o.Updated}
}

// orgJSONForLocked is orgJSONLocked for a GET of organizations: Clerk adds
// members_count only when include_members_count=true asks for it.
func (c *Clerk) orgJSONForLocked(r *http.Request) func(*cOrg) map[string]any {
	withCount := r.URL.Query().Get("include_members_count") == "true"
	return func(o *cOrg) map[string]any {
		out := c.orgJSONLocked(o)
		if withCount {
			out["members_count"] = int64(len(c.memberships[o.ID]))
		}
		return out
	}
}

func (c *Clerk) userJSONLocked(u *cUser) map[string]any {
	emailID := "idn_" + strings.TrimPrefix(u.ID, "user_")
	strategy := "email_code"
	if len(u.SAMLAccounts) > 0 {
		strategy = "saml"
	}
	accounts := u.SAMLAccounts
	if accounts == nil {
		accounts = []map[string]any{}
	}
	var lastSignIn any
	if u.LastSignIn != 0 {
		lastSignIn = u.LastSignIn
	}
	return map[string]any{"object": "user", "id": u.ID, "username": nil, "first_name": u.FirstName, "last_name": u.LastName,
		"image_url": "", "has_image": false, "primary_email_address_id": emailID, "primary_phone_number_id": nil,
		"primary_web3_wallet_id": nil, "password_enabled": false, "two_factor_enabled": false, "totp_enabled": false,
		"backup_code_enabled": false,
		"email_addresses": []map[string]any{{"id": emailID, "object": "email_address", "email_address": u.Email, "reserved": false,
			"verification": map[string]any{"status": "verified", "strategy": strategy, "attempts": nil, "expire_at": nil}, "linked_to": []any{}}},
		"phone_numbers": []any{}, "web3_wallets": []any{}, "external_accounts": []any{}, "saml_accounts": accounts,
		"public_metadata": orJSONMap(u.PublicMetadata), "private_metadata": orJSONMap(u.PrivateMetadata),
		"unsafe_metadata": orJSONMap(u.UnsafeMetadata), "external_id": nilIfEmpty(u.ExternalID), "last_sign_in_at": lastSignIn,
		"banned": false, "locked": false, "lockout_expires_in_seconds": nil, "verification_attempts_remaining": nil,
		"delete_self_enabled": true, "create_organization_enabled": true, "last_active_at": lastSignIn,
		"created_at": u.Created, "updated_at": u.Updated}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (c *Clerk) membershipJSONLocked(orgID, userID string) map[string]any {
	o, u, m := c.orgs[orgID], c.users[userID], c.memberships[orgID][userID]
	perms := []string{"org:sso:read"}
	if m.Role == "org:admin" {
		perms = append(perms, "org:sso:manage")
	}
	pud := map[string]any{"user_id": userID, "first_name": nil, "last_name": nil, "image_url": "", "has_image": false, "identifier": ""}
	if u != nil {
		pud["first_name"], pud["last_name"], pud["identifier"] = u.FirstName, u.LastName, u.Email
	}
	return map[string]any{"object": "organization_membership", "id": m.ID, "organization": c.orgJSONLocked(o),
		"permissions": perms, "public_metadata": orJSONMap(m.PublicMetadata), "private_metadata": orJSONMap(m.PrivateMetadata),
		"role": m.Role, "role_name": roleName(m.Role), "created_at": m.Created, "updated_at": m.Updated,
		"public_user_data": pud}
}

// sessionStatusLocked is the session's status as Clerk reports it: an
// active session past its expire_at is expired.
func (c *Clerk) sessionStatusLocked(s *cSession) string {
	if s.Status == "active" && c.now().UnixMilli() > s.Expire {
		return "expired"
	}
	return s.Status
}

func (c *Clerk) sessionJSONLocked(s *cSession) map[string]any {
	out := map[string]any{"object": "session", "id": s.ID, "client_id": s.ClientID, "user_id": s.UserID, "status": c.sessionStatusLocked(s),
		"last_active_at": s.Updated, "expire_at": s.Expire, "abandon_at": s.Expire, "created_at": s.Created, "updated_at": s.Updated}
	if s.OrgID != "" {
		out["last_active_organization_id"] = s.OrgID
	}
	return out
}

func (c *Clerk) connJSONLocked(cn *cConn) map[string]any {
	p := c.idp(cn.Persona)
	out := map[string]any{"object": "saml_connection", "id": cn.ID, "name": cn.Name, "domain": firstOr(cn.Domains, ""),
		"domains": cn.Domains, "organization_id": cn.Organization, "active": cn.Active, "provider": clerkProvider(cn, p),
		"user_count": c.connUsersLocked(cn.ID), "sync_user_attributes": true, "allow_subdomains": false,
		"allow_idp_initiated": false, "disable_additional_identifications": false,
		"acs_url": c.FrontendAPIURL() + "/v1/saml/acs/" + cn.ID, "sp_entity_id": c.FrontendAPIURL() + "/v1/saml/metadata/" + cn.ID,
		"sp_metadata_url":   c.FrontendAPIURL() + "/v1/saml/metadata/" + cn.ID,
		"attribute_mapping": map[string]any{"user_id": "", "email_address": "", "first_name": "", "last_name": ""},
		"created_at":        cn.Created, "updated_at": cn.Updated}
	if p != nil {
		out["idp_entity_id"], out["idp_sso_url"], out["idp_metadata_url"] = p.SAMLEntityID(), p.SAMLSSOURL(), p.SAMLMetadataURL()
	}
	return out
}

func (c *Clerk) connUsersLocked(connID string) int64 {
	var n int64
	for _, u := range c.users {
		for _, a := range u.SAMLAccounts {
			if a["connection_id"] == connID {
				n++
				break
			}
		}
	}
	return n
}

func firstOr(s []string, d string) string {
	if len(s) > 0 {
		return s[0]
	}
	return d
}

// clerkProvider is Clerk's provider name for a connection.
func clerkProvider(cn *cConn, p IdP) string {
	if cn.Protocol == "oidc" {
		return "oidc_custom"
	}
	if p == nil {
		return "saml_custom"
	}
	switch p.Vendor() {
	case sso.Okta:
		return "saml_okta"
	case sso.AzureAD:
		return "saml_microsoft"
	case sso.GoogleWorkspace:
		return "saml_google"
	}
	return "saml_custom"
}

// bapi wraps a Backend API handler: the secret key, then armed faults.
func (c *Clerk) bapi(h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(tok), []byte(c.sk)) != 1 {
			clerkError(w, http.StatusUnauthorized, "authentication_invalid", "Unauthorized request")
			return
		}
		for _, f := range c.takeFaults(siteBAPI) {
			switch f {
			case BAPI429:
				w.Header().Set("Retry-After", "1")
				clerkError(w, http.StatusTooManyRequests, "too_many_requests", "Too many requests, retry later")
				return
			case BAPI500:
				clerkError(w, http.StatusInternalServerError, "internal_clerk_error", "There was an internal error on our servers")
				return
			case BAPISlow:
				if !sleepCtx(r, slowFaultDelay) {
					return
				}
			}
		}
		h(w, r)
	}
}

// backendRoutes are the BAPI's endpoints, relative to /{name}/bapi/v1;
// Routes wraps each in bapi (the secret key, then faults).
func (c *Clerk) backendRoutes() []route {
	var out []route
	h := func(pattern string, fn func(w http.ResponseWriter, r *http.Request)) {
		method, path, _ := strings.Cut(pattern, " ")
		out = append(out, route{method, path, fn})
	}
	h("GET /jwks", c.serveJWKS)
	h("GET /organizations", c.listOrgs)
	h("POST /organizations", c.createOrg)
	h("GET /organizations/{org}", c.withOrg(func(w http.ResponseWriter, r *http.Request, o *cOrg) {
		writeJSON(w, http.StatusOK, c.orgJSONForLocked(r)(o))
	}))
	h("PATCH /organizations/{org}", c.updateOrg(false))
	h("PATCH /organizations/{org}/metadata", c.updateOrg(true))
	h("DELETE /organizations/{org}", c.deleteOrg)
	h("GET /organizations/{org}/memberships", c.listMemberships)
	h("POST /organizations/{org}/memberships", c.putMembership(true))
	h("PATCH /organizations/{org}/memberships/{user}", c.putMembership(false))
	h("DELETE /organizations/{org}/memberships/{user}", c.deleteMembership)
	h("GET /users", c.listUsers(false))
	h("GET /users/count", c.listUsers(true))
	h("GET /users/{user}", c.withUser(func(w http.ResponseWriter, r *http.Request, u *cUser) {
		writeJSON(w, http.StatusOK, c.userJSONLocked(u))
	}))
	h("PATCH /users/{user}/metadata", c.updateUserMetadata)
	h("DELETE /users/{user}", c.deleteUser)
	h("GET /users/{user}/organization_memberships", c.userMemberships)
	h("GET /sessions", c.listSessions)
	h("GET /sessions/{sid}", c.getSession)
	h("POST /sessions/{sid}/revoke", c.revokeSession)
	h("POST /sessions/{sid}/tokens", c.sessionToken)
	h("GET /saml_connections", c.listConns)
	h("POST /saml_connections", c.createConn)
	h("GET /saml_connections/{id}", c.getConn)
	h("PATCH /saml_connections/{id}", c.updateConn)
	h("DELETE /saml_connections/{id}", c.deleteConn)
	h("GET /clients/handshake_payload", c.handshakePayload)
	return out
}

// maxBAPIBody bounds a Backend API request body, whatever the host: a
// larger one is refused 413 request_body_too_large, read no further.
const maxBAPIBody = 64 << 10

// decodeBody reads an optional JSON body ("null" and empty are {}).
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.ContentLength == 0 {
		return true
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBAPIBody))
	if err := dec.Decode(v); err != nil && err.Error() != "EOF" {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			clerkError(w, http.StatusRequestEntityTooLarge, "request_body_too_large", "The request body is too large")
			return false
		}
		clerkError(w, http.StatusUnprocessableEntity, "form_param_format_invalid", "The request body is not valid JSON: "+err.Error())
		return false
	}
	return true
}

// pageJSON renders the page of items that the request's limit and offset
// ask for, in Clerk's default page size of 10.
func pageJSON[T any](r *http.Request, items []T, render func(T) map[string]any) []map[string]any {
	lo, hi := page(r, len(items))
	data := make([]map[string]any, 0, hi-lo)
	for _, it := range items[lo:hi] {
		data = append(data, render(it))
	}
	return data
}

func page(r *http.Request, n int) (int, int) {
	limit, offset := 10, 0
	if v, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && v > 0 && v <= 500 {
		limit = v
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("offset")); err == nil && v >= 0 {
		offset = v
	}
	lo := min(offset, n)
	return lo, min(lo+limit, n)
}

func (c *Clerk) withOrg(fn func(http.ResponseWriter, *http.Request, *cOrg)) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		o := c.orgLocked(r.PathValue("org"))
		if o == nil {
			clerkError(w, http.StatusNotFound, "resource_not_found", "Organization not found")
			return
		}
		fn(w, r, o)
	}
}

func (c *Clerk) withUser(fn func(http.ResponseWriter, *http.Request, *cUser)) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		u := c.users[r.PathValue("user")]
		if u == nil {
			clerkError(w, http.StatusNotFound, "resource_not_found", "User not found")
			return
		}
		fn(w, r, u)
	}
}

func (c *Clerk) listOrgs(w http.ResponseWriter, r *http.Request) {
	q := strings.ToLower(r.URL.Query().Get("query"))
	userIDs, orgIDs := r.URL.Query()["user_id"], r.URL.Query()["organization_id"]
	c.mu.Lock()
	var all []*cOrg
	for _, o := range c.orgs {
		switch {
		case q != "" && !strings.Contains(strings.ToLower(o.Name), q) && !strings.Contains(o.Slug, q) && !strings.Contains(strings.ToLower(o.ID), q):
		case len(userIDs) > 0 && !slices.ContainsFunc(userIDs, func(uid string) bool { return c.memberships[o.ID][uid] != nil }):
		case len(orgIDs) > 0 && !slices.Contains(orgIDs, o.ID):
		default:
			all = append(all, o)
		}
	}
	slices.SortFunc(all, func(a, b *cOrg) int { return strings.Compare(a.ID, b.ID) })
	data := pageJSON(r, all, c.orgJSONForLocked(r))
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "total_count": len(all)})
}

func (c *Clerk) createOrg(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name                  string         `json:"name"`
		Slug                  *string        `json:"slug"`
		CreatedBy             *string        `json:"created_by"`
		MaxAllowedMemberships *int64         `json:"max_allowed_memberships"`
		PublicMetadata        map[string]any `json:"public_metadata"`
		PrivateMetadata       map[string]any `json:"private_metadata"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if strings.TrimSpace(body.Name) == "" {
		clerkError(w, http.StatusUnprocessableEntity, "form_param_missing", "name must be included")
		return
	}
	slug := slugify(body.Name)
	if body.Slug != nil && *body.Slug != "" {
		slug = *body.Slug
		if !validSlug(slug) {
			clerkError(w, http.StatusUnprocessableEntity, "form_param_format_invalid",
				"slug can contain only lowercase alphanumeric characters and the dash \"-\"")
			return
		}
	}
	now := c.now().UnixMilli()
	c.mu.Lock()
	if slug == "" {
		slug = strings.ToLower(strings.ReplaceAll(newID("org"), "_", "-"))
	}
	if c.orgLocked(slug) != nil {
		c.mu.Unlock()
		clerkError(w, http.StatusUnprocessableEntity, "form_identifier_exists", "That slug is taken. Please try another.")
		return
	}
	o := &cOrg{ID: newID("org"), Name: body.Name, Slug: slug, PublicMetadata: body.PublicMetadata, PrivateMetadata: body.PrivateMetadata,
		AdminDelete: true, Created: now, Updated: now}
	if body.MaxAllowedMemberships != nil {
		o.MaxMemberships = *body.MaxAllowedMemberships
	}
	c.orgs[o.ID] = o
	c.memberships[o.ID] = map[string]*cMembership{}
	if body.CreatedBy != nil && c.users[*body.CreatedBy] != nil {
		o.CreatedBy = *body.CreatedBy
		c.memberships[o.ID][o.CreatedBy] = &cMembership{ID: newID("orgmem"), Role: "org:admin", Created: now, Updated: now}
	}
	out := c.orgJSONLocked(o)
	c.mu.Unlock()
	c.emit("organization.created", out)
	writeJSON(w, http.StatusOK, out)
}

func (c *Clerk) updateOrg(metadataOnly bool) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Name                  *string        `json:"name"`
			Slug                  *string        `json:"slug"`
			MaxAllowedMemberships *int64         `json:"max_allowed_memberships"`
			AdminDeleteEnabled    *bool          `json:"admin_delete_enabled"`
			PublicMetadata        map[string]any `json:"public_metadata"`
			PrivateMetadata       map[string]any `json:"private_metadata"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		if !metadataOnly && body.Slug != nil && !validSlug(*body.Slug) {
			clerkError(w, http.StatusUnprocessableEntity, "form_param_format_invalid",
				"slug can contain only lowercase alphanumeric characters and the dash \"-\"")
			return
		}
		c.mu.Lock()
		o := c.orgLocked(r.PathValue("org"))
		if o == nil {
			c.mu.Unlock()
			clerkError(w, http.StatusNotFound, "resource_not_found", "Organization not found")
			return
		}
		if !metadataOnly && body.Slug != nil {
			if other := c.orgLocked(*body.Slug); other != nil && other != o {
				c.mu.Unlock()
				clerkError(w, http.StatusUnprocessableEntity, "form_identifier_exists", "That slug is taken. Please try another.")
				return
			}
		}
		if !metadataOnly {
			if body.Name != nil {
				o.Name = *body.Name
			}
			if body.Slug != nil {
				o.Slug = *body.Slug
			}
			if body.MaxAllowedMemberships != nil {
				o.MaxMemberships = *body.MaxAllowedMemberships
			}
			if body.AdminDeleteEnabled != nil {
				o.AdminDelete = *body.AdminDeleteEnabled
			}
		}
		o.PublicMetadata = mergeMeta(o.PublicMetadata, body.PublicMetadata, metadataOnly)
		o.PrivateMetadata = mergeMeta(o.PrivateMetadata, body.PrivateMetadata, metadataOnly)
		o.Updated = c.now().UnixMilli()
		out := c.orgJSONLocked(o)
		c.mu.Unlock()
		c.emit("organization.updated", out)
		writeJSON(w, http.StatusOK, out)
	}
}

// validSlug is what Clerk takes as an organization slug: lowercase
// letters, digits and the dash, not empty.
func validSlug(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-') {
			return false
		}
	}
	return true
}

// slugify derives a slug from an organization's name: lowercase letters
// and digits, every other run of characters one dash, none at the ends.
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	return b.String()
}

// mergeMeta merges (metadata endpoints: keys set to null are removed) or
// replaces (update endpoints) metadata.
func mergeMeta(cur, in map[string]any, merge bool) map[string]any {
	if in == nil {
		return cur
	}
	if !merge {
		return in
	}
	out := map[string]any{}
	for k, v := range cur {
		out[k] = v
	}
	for k, v := range in {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func (c *Clerk) deleteOrg(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	o := c.orgLocked(r.PathValue("org"))
	if o == nil {
		c.mu.Unlock()
		clerkError(w, http.StatusNotFound, "resource_not_found", "Organization not found")
		return
	}
	delete(c.orgs, o.ID)
	delete(c.memberships, o.ID)
	c.mu.Unlock()
	out := map[string]any{"id": o.ID, "slug": o.Slug, "object": "organization", "deleted": true}
	c.emit("organization.deleted", out)
	writeJSON(w, http.StatusOK, out)
}

func (c *Clerk) listMemberships(w http.ResponseWriter, r *http.Request) {
	c.withOrg(func(w http.ResponseWriter, r *http.Request, o *cOrg) {
		q := r.URL.Query()
		ids := make([]string, 0, len(c.memberships[o.ID]))
		for uid, m := range c.memberships[o.ID] {
			if c.membershipMatchesLocked(q, uid, m) {
				ids = append(ids, uid)
			}
		}
		slices.Sort(ids)
		data := pageJSON(r, ids, func(uid string) map[string]any { return c.membershipJSONLocked(o.ID, uid) })
		writeJSON(w, http.StatusOK, map[string]any{"data": data, "total_count": len(ids)})
	})(w, r)
}

// membershipMatchesLocked applies the list's filters, as Clerk's
// ListOrganizationMemberships reads them: user_id (each ID optionally
// prefixed + to include or - to exclude), role and email_address (any of
// the values given).
func (c *Clerk) membershipMatchesLocked(q url.Values, uid string, m *cMembership) bool {
	if ids := q["user_id"]; len(ids) > 0 {
		included, includes := false, false
		for _, id := range ids {
			if rest, ok := strings.CutPrefix(id, "-"); ok {
				if rest == uid {
					return false
				}
				continue
			}
			includes = true
			if strings.TrimPrefix(id, "+") == uid {
				included = true
			}
		}
		if includes && !included {
			return false
		}
	}
	if roles := q["role"]; len(roles) > 0 && !slices.Contains(roles, m.Role) {
		return false
	}
	if emails := q["email_address"]; len(emails) > 0 {
		u := c.users[uid]
		if u == nil || !slices.ContainsFunc(emails, func(e string) bool { return strings.EqualFold(e, u.Email) }) {
			return false
		}
	}
	return true
}

func (c *Clerk) putMembership(create bool) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			UserID string `json:"user_id"`
			Role   string `json:"role"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		if !create {
			body.UserID = r.PathValue("user")
		}
		now := c.now().UnixMilli()
		c.mu.Lock()
		o := c.orgLocked(r.PathValue("org"))
		switch {
		case o == nil:
			c.mu.Unlock()
			clerkError(w, http.StatusNotFound, "resource_not_found", "Organization not found")
			return
		case c.users[body.UserID] == nil:
			c.mu.Unlock()
			clerkError(w, http.StatusNotFound, "resource_not_found", "User not found")
			return
		case body.Role == "":
			c.mu.Unlock()
			clerkError(w, http.StatusUnprocessableEntity, "form_param_missing", "role must be included")
			return
		}
		m := c.memberships[o.ID][body.UserID]
		event := "organizationMembership.updated"
		switch {
		case create && m != nil:
			c.mu.Unlock()
			clerkError(w, http.StatusUnprocessableEntity, "already_a_member_in_organization", "User is already a member of the organization")
			return
		case !create && m == nil:
			c.mu.Unlock()
			clerkError(w, http.StatusNotFound, "resource_not_found", "Membership not found")
			return
		case create:
			m = &cMembership{ID: newID("orgmem"), Created: now, PublicMetadata: map[string]any{}, PrivateMetadata: map[string]any{}}
			c.memberships[o.ID][body.UserID] = m
			event = "organizationMembership.created"
		}
		m.Role, m.Updated = clerkRole(body.Role), now
		out := c.membershipJSONLocked(o.ID, body.UserID)
		c.mu.Unlock()
		c.emit(event, out)
		writeJSON(w, http.StatusOK, out)
	}
}

func (c *Clerk) deleteMembership(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	o := c.orgLocked(r.PathValue("org"))
	uid := r.PathValue("user")
	if o == nil || c.memberships[o.ID][uid] == nil {
		c.mu.Unlock()
		clerkError(w, http.StatusNotFound, "resource_not_found", "Membership not found")
		return
	}
	out := c.membershipJSONLocked(o.ID, uid)
	delete(c.memberships[o.ID], uid)
	c.mu.Unlock()
	c.emit("organizationMembership.deleted", out)
	writeJSON(w, http.StatusOK, out)
}

func (c *Clerk) listUsers(count bool) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		query := strings.ToLower(q.Get("query"))
		emails, ids, orgIDs := q["email_address"], q["user_id"], q["organization_id"]
		c.mu.Lock()
		var all []*cUser
		for _, u := range c.users {
			switch {
			case query != "" && !strings.Contains(u.Email, query) && !strings.Contains(strings.ToLower(u.FirstName+" "+u.LastName), query):
			case len(emails) > 0 && !slices.ContainsFunc(emails, func(e string) bool { return strings.EqualFold(e, u.Email) }):
			case len(ids) > 0 && !slices.Contains(ids, u.ID):
			case len(orgIDs) > 0 && !slices.ContainsFunc(orgIDs, func(id string) bool {
				o := c.orgLocked(id)
				return o != nil && c.memberships[o.ID][u.ID] != nil
			}):
			default:
				all = append(all, u)
			}
		}
		slices.SortFunc(all, func(a, b *cUser) int { return strings.Compare(a.ID, b.ID) })
		if count {
			c.mu.Unlock()
			writeJSON(w, http.StatusOK, map[string]any{"object": "total_count", "total_count": len(all)})
			return
		}
		data := pageJSON(r, all, c.userJSONLocked)
		c.mu.Unlock()
		writeJSON(w, http.StatusOK, data)
	}
}

func (c *Clerk) updateUserMetadata(w http.ResponseWriter, r *http.Request) {
	var body struct {
		PublicMetadata  map[string]any `json:"public_metadata"`
		PrivateMetadata map[string]any `json:"private_metadata"`
		UnsafeMetadata  map[string]any `json:"unsafe_metadata"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	c.mu.Lock()
	u := c.users[r.PathValue("user")]
	if u == nil {
		c.mu.Unlock()
		clerkError(w, http.StatusNotFound, "resource_not_found", "User not found")
		return
	}
	u.PublicMetadata = mergeMeta(u.PublicMetadata, body.PublicMetadata, true)
	u.PrivateMetadata = mergeMeta(u.PrivateMetadata, body.PrivateMetadata, true)
	u.UnsafeMetadata = mergeMeta(u.UnsafeMetadata, body.UnsafeMetadata, true)
	u.Updated = c.now().UnixMilli()
	out := c.userJSONLocked(u)
	c.mu.Unlock()
	c.emit("user.updated", out)
	writeJSON(w, http.StatusOK, out)
}

func (c *Clerk) deleteUser(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	u := c.users[r.PathValue("user")]
	if u == nil {
		c.mu.Unlock()
		clerkError(w, http.StatusNotFound, "resource_not_found", "User not found")
		return
	}
	delete(c.users, u.ID)
	for _, ms := range c.memberships {
		delete(ms, u.ID)
	}
	for _, s := range c.sessions {
		if s.UserID == u.ID {
			s.Status = "removed"
		}
	}
	c.mu.Unlock()
	out := map[string]any{"id": u.ID, "object": "user", "deleted": true}
	c.emit("user.deleted", out)
	writeJSON(w, http.StatusOK, out)
}

func (c *Clerk) userMemberships(w http.ResponseWriter, r *http.Request) {
	c.withUser(func(w http.ResponseWriter, r *http.Request, u *cUser) {
		var orgIDs []string
		for oid, ms := range c.memberships {
			if ms[u.ID] != nil {
				orgIDs = append(orgIDs, oid)
			}
		}
		slices.Sort(orgIDs)
		data := pageJSON(r, orgIDs, func(oid string) map[string]any { return c.membershipJSONLocked(oid, u.ID) })
		writeJSON(w, http.StatusOK, map[string]any{"data": data, "total_count": len(orgIDs)})
	})(w, r)
}

func (c *Clerk) listSessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c.mu.Lock()
	var all []*cSession
	for _, s := range c.sessions {
		if (q.Get("user_id") == "" || s.UserID == q.Get("user_id")) && (q.Get("status") == "" || c.sessionStatusLocked(s) == q.Get("status")) &&
			(q.Get("client_id") == "" || s.ClientID == q.Get("client_id")) {
			all = append(all, s)
		}
	}
	slices.SortFunc(all, func(a, b *cSession) int { return strings.Compare(a.ID, b.ID) })
	data := pageJSON(r, all, c.sessionJSONLocked)
	c.mu.Unlock()
	if q.Get("paginated") != "true" {
		// Clerk's older shape, which its SDKs opt out of with
		// paginated=true (clerk-sdk-go v1 read this list as []Session).
		writeJSON(w, http.StatusOK, data)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "total_count": len(all)})
}

func (c *Clerk) getSession(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	s := c.sessions[r.PathValue("sid")]
	if s == nil {
		c.mu.Unlock()
		clerkError(w, http.StatusNotFound, "resource_not_found", "Session not found")
		return
	}
	out := c.sessionJSONLocked(s)
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (c *Clerk) revokeSession(w http.ResponseWriter, r *http.Request) {
	if err := c.RevokeSession(r.PathValue("sid")); err != nil {
		clerkError(w, http.StatusNotFound, "resource_not_found", "Session not found")
		return
	}
	c.getSession(w, r)
}

func (c *Clerk) sessionToken(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ExpiresInSeconds *int64 `json:"expires_in_seconds"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	ttl := sessionTokenTTL
	if body.ExpiresInSeconds != nil && *body.ExpiresInSeconds > 0 && *body.ExpiresInSeconds <= 315360000 {
		ttl = secondsDuration(*body.ExpiresInSeconds)
	}
	tok, err := c.mintToken(r.PathValue("sid"), "", ttl)
	switch {
	case errors.Is(err, errSessionNotActive):
		clerkError(w, http.StatusNotFound, "resource_not_found", "Session not found or not active")
		return
	case err != nil:
		clerkError(w, http.StatusInternalServerError, "internal_clerk_error", "could not sign the token")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "token", "jwt": tok})
}

// samlConnLocked is the SAML connection with the ID, nil for none: the
// Backend API's /saml_connections holds SAML connections only (an OIDC
// enterprise connection is not one of them).
func (c *Clerk) samlConnLocked(id string) *cConn {
	if cn := c.conns[id]; cn != nil && cn.Protocol == "saml" {
		return cn
	}
	return nil
}

func (c *Clerk) listConns(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	var ids []string
	for id, cn := range c.conns {
		if cn.Protocol == "saml" {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	data := pageJSON(r, ids, func(id string) map[string]any { return c.connJSONLocked(c.conns[id]) })
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "total_count": len(ids)})
}

type connBody struct {
	Name           *string  `json:"name"`
	Domain         *string  `json:"domain"`
	Domains        []string `json:"domains"`
	Provider       *string  `json:"provider"`
	OrganizationID *string  `json:"organization_id"`
	Active         *bool    `json:"active"`
	IdPMetadataURL *string  `json:"idp_metadata_url"`
	IdPEntityID    *string  `json:"idp_entity_id"`
}

// personaFor finds the persona a SAML connection points at, by its
// metadata URL or entity ID.
func (c *Clerk) personaFor(b connBody) IdP {
	for _, p := range c.host.IdPs() {
		if (b.IdPMetadataURL != nil && *b.IdPMetadataURL == p.SAMLMetadataURL()) || (b.IdPEntityID != nil && *b.IdPEntityID == p.SAMLEntityID()) {
			return p
		}
	}
	return nil
}

func (c *Clerk) createConn(w http.ResponseWriter, r *http.Request) {
	var b connBody
	if !decodeBody(w, r, &b) {
		return
	}
	p := c.personaFor(b)
	domains := b.Domains
	if b.Domain != nil && *b.Domain != "" {
		domains = append(domains, *b.Domain)
	}
	if b.Name == nil || len(domains) == 0 || p == nil {
		clerkError(w, http.StatusUnprocessableEntity, "form_param_missing",
			"name, domain and idp_metadata_url (or idp_entity_id) of a mock persona must be included")
		return
	}
	now := c.now().UnixMilli()
	cn := &cConn{ConnectionConfig: ConnectionConfig{ID: newID("samlc"), Name: *b.Name, Protocol: "saml", Persona: p.Name(),
		Domains: domains}, Active: b.Active == nil || *b.Active, Created: now, Updated: now}
	c.mu.Lock()
	if b.OrganizationID != nil {
		if o := c.orgLocked(*b.OrganizationID); o != nil {
			cn.Organization = o.ID
		}
	}
	c.conns[cn.ID] = cn
	out := c.connJSONLocked(cn)
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (c *Clerk) getConn(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cn := c.samlConnLocked(r.PathValue("id"))
	if cn == nil {
		clerkError(w, http.StatusNotFound, "resource_not_found", "SAML connection not found")
		return
	}
	writeJSON(w, http.StatusOK, c.connJSONLocked(cn))
}

func (c *Clerk) updateConn(w http.ResponseWriter, r *http.Request) {
	var b connBody
	if !decodeBody(w, r, &b) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cn := c.samlConnLocked(r.PathValue("id"))
	if cn == nil {
		clerkError(w, http.StatusNotFound, "resource_not_found", "SAML connection not found")
		return
	}
	if b.Name != nil {
		cn.Name = *b.Name
	}
	if b.Domain != nil {
		cn.Domains = []string{*b.Domain}
	}
	if b.Domains != nil {
		cn.Domains = b.Domains
	}
	if b.Active != nil {
		cn.Active = *b.Active
	}
	if b.OrganizationID != nil {
		if o := c.orgLocked(*b.OrganizationID); o != nil {
			cn.Organization = o.ID
		}
	}
	cn.Updated = c.now().UnixMilli()
	writeJSON(w, http.StatusOK, c.connJSONLocked(cn))
}

func (c *Clerk) deleteConn(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := r.PathValue("id")
	if c.samlConnLocked(id) == nil {
		clerkError(w, http.StatusNotFound, "resource_not_found", "SAML connection not found")
		return
	}
	delete(c.conns, id)
	delete(c.connectors, id)
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "saml_connection", "deleted": true})
}

func roleName(role string) string {
	r := strings.TrimPrefix(role, "org:")
	if r == "" {
		return ""
	}
	return strings.ToUpper(r[:1]) + r[1:]
}

func secondsDuration(s int64) time.Duration { return time.Duration(s) * time.Second }
