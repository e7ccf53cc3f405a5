package mockidp

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ssokit/ssokit/sso"
)

// endpointSet is one issuer of a persona with its vendor's URL layout. All
// paths are relative to the persona's base URL ({server}/{name}).
type endpointSet struct {
	name string // "default", "org", "tenant", "common", "organizations"
	// issuer is appended to the base for the issuer; discoveryIssuer, when
	// set, is what discovery claims instead (Azure's literal {tenantid}).
	issuer, discoveryIssuer                                 string
	discovery, authorize, token, userinfo, jwks, endSession string
	// introspect and revoke are RFC 7662 / RFC 7009 endpoints, where the
	// vendor has them (empty: not served, not advertised).
	introspect, revoke string
	// accessAudience, when set, makes the access tokens of this issuer
	// JWTs with that aud (Okta's custom authorization server).
	accessAudience string
}

// profile is what differs between vendors as a relying party sees it.
type profile struct {
	sets             func(p *Persona) []endpointSet
	challengeMethods []string // code_challenge_method values accepted
	pkceRequired     bool
	defaultAuth      string // client auth method when the client names none
	authMethods      []string
	// responseModes are the response_mode values the vendor accepts for
	// response_type=code, first the default; others are refused.
	responseModes []string
	atHash        bool   // at_hash on ID tokens from the token endpoint
	unknownUser   string // error_description for a user the IdP does not know
	userID        func(p *Persona, email string) string
}

var profiles = map[sso.Vendor]*profile{
	sso.Okta: {
		sets: func(p *Persona) []endpointSet {
			custom := "/oauth2/default"
			return []endpointSet{
				{name: "default", issuer: custom, discovery: custom + "/.well-known/openid-configuration",
					authorize: custom + "/v1/authorize", token: custom + "/v1/token", userinfo: custom + "/v1/userinfo",
					jwks: custom + "/v1/keys", endSession: custom + "/v1/logout",
					introspect: custom + "/v1/introspect", revoke: custom + "/v1/revoke", accessAudience: "api://default"},
				{name: "org", issuer: "", discovery: "/.well-known/openid-configuration",
					authorize: "/oauth2/v1/authorize", token: "/oauth2/v1/token", userinfo: "/oauth2/v1/userinfo",
					jwks: "/oauth2/v1/keys", endSession: "/oauth2/v1/logout",
					introspect: "/oauth2/v1/introspect", revoke: "/oauth2/v1/revoke"},
			}
		},
		challengeMethods: []string{"S256"},
		defaultAuth:      "client_secret_basic",
		authMethods:      []string{"client_secret_basic", "client_secret_post", "none"},
		// Okta's /authorize takes query, fragment, form_post (and
		// okta_post_message, which the mock does not do).
		responseModes: []string{"query", "fragment", "form_post"},
		atHash:        true,
		unknownUser:   "User is not assigned to the client application.",
		userID:        func(p *Persona, email string) string { return "00u" + base62(p.hash("user", email), 17) },
	},
	sso.AzureAD: {
		sets: func(p *Persona) []endpointSet {
			var out []endpointSet
			for _, t := range []string{p.tenant, "common", "organizations"} {
				es := endpointSet{name: "tenant", issuer: "/" + p.tenant + "/v2.0",
					discovery: "/" + t + "/v2.0/.well-known/openid-configuration",
					authorize: "/" + t + "/oauth2/v2.0/authorize", token: "/" + t + "/oauth2/v2.0/token",
					userinfo: "/oidc/userinfo", jwks: "/" + t + "/discovery/v2.0/keys", endSession: "/" + t + "/oauth2/v2.0/logout"}
				if t != p.tenant {
					es.name, es.discoveryIssuer = t, "/{tenantid}/v2.0"
				}
				out = append(out, es)
			}
			return out
		},
		challengeMethods: []string{"S256", "plain"},
		defaultAuth:      "client_secret_post",
		// Microsoft's discovery lists client_secret_post, private_key_jwt,
		// client_secret_basic; the mock advertises the two it does (a
		// client registered with "none" and PKCE still works, as at Azure).
		authMethods:   []string{"client_secret_post", "client_secret_basic"},
		responseModes: []string{"query", "fragment", "form_post"},
		unknownUser:   "AADSTS50034: The user account does not exist in this directory.",
		userID:        func(p *Persona, email string) string { return guid(p.hash("oid", email)) },
	},
	sso.GoogleWorkspace: {
		sets: func(p *Persona) []endpointSet {
			return []endpointSet{{name: "default", issuer: "", discovery: "/.well-known/openid-configuration",
				authorize: "/o/oauth2/v2/auth", token: "/token", userinfo: "/v1/userinfo",
				jwks: "/oauth2/v3/certs"}} // Google publishes no end_session_endpoint
		},
		challengeMethods: []string{"S256", "plain"},
		defaultAuth:      "client_secret_post",
		authMethods:      []string{"client_secret_post", "client_secret_basic"},
		responseModes:    []string{"query", "fragment", "form_post"},
		atHash:           true,
		unknownUser:      "Couldn't find your Google Account.",
		userID:           func(p *Persona, email string) string { return digits(p.hash("sub", email), 21) },
	},
	sso.OneLogin: {
		sets: func(p *Persona) []endpointSet {
			o := "/oidc/2"
			return []endpointSet{{name: "default", issuer: o, discovery: o + "/.well-known/openid-configuration",
				authorize: o + "/auth", token: o + "/token", userinfo: o + "/me", jwks: o + "/certs", endSession: o + "/logout"}}
		},
		challengeMethods: []string{"S256"},
		defaultAuth:      "client_secret_basic",
		authMethods:      []string{"client_secret_basic", "client_secret_post", "none"},
		responseModes:    []string{"query", "fragment", "form_post"},
		atHash:           true,
		unknownUser:      "The user is not authorized to access this app.",
		userID:           func(p *Persona, email string) string { return digits(p.hash("sub", email), 9) },
	},
	sso.JumpCloud: {
		sets: func(p *Persona) []endpointSet {
			return []endpointSet{{name: "default", issuer: "/", discovery: "/.well-known/openid-configuration",
				authorize: "/oauth2/auth", token: "/oauth2/token", userinfo: "/userinfo",
				jwks: "/.well-known/jwks.json", endSession: "/oauth2/sessions/logout"}}
		},
		challengeMethods: []string{"S256"},
		// PKCE is not required of a confidential client: Ory Hydra, which
		// JumpCloud's OIDC runs on, enforces it only when configured
		// (oauth2.pkce.enforced, default false), and client libraries'
		// JumpCloud providers default to no PKCE with a client secret
		// (openauth.js.org/docs/provider/jumpcloud: pkce, default false).
		// A public client ("none") still needs it here.
		defaultAuth: "client_secret_basic",
		authMethods: []string{"client_secret_basic", "client_secret_post", "none"},
		// Ory Hydra's discovery lists query and fragment only.
		responseModes: []string{"query", "fragment"},
		atHash:        true,
		unknownUser:   "The user is not bound to this application.",
		userID:        func(p *Persona, email string) string { return hex.EncodeToString(p.hash("sub", email)[:12]) },
	},
}

// azureOverage is the number of groups past which Azure AD sends the
// overage claims instead of the groups claim in a JWT.
const azureOverage = 200

// identityClaims are the claims about the user that a vendor puts in its ID
// token and userinfo for the granted scopes.
func (p *Persona) identityClaims(u *UserConfig, g *grant) map[string]any {
	c := map[string]any{}
	name := strings.TrimSpace(u.GivenName + " " + u.FamilyName)
	has := g.hasScope
	id := p.userID(u)
	switch p.cfg.Vendor {
	case sso.Okta:
		c["sub"] = id
		if has("profile") {
			c["name"], c["preferred_username"] = name, u.Email
			c["given_name"], c["family_name"] = u.GivenName, u.FamilyName
			// An Okta user profile's defaults, which Okta returns for the
			// profile scope (updated_at as seconds since the epoch).
			c["locale"], c["zoneinfo"] = "en_US", "America/Los_Angeles"
			c["updated_at"] = p.srv.now().Truncate(24 * time.Hour).Unix()
		}
		if has("email") {
			c["email"], c["email_verified"] = u.Email, true
		}
		if p.cfg.GroupsClaim != "" && has("groups") {
			c[p.cfg.GroupsClaim] = nonNil(u.Groups)
		}
	case sso.AzureAD:
		c["sub"] = pairwise(id, g.client)
		c["tid"] = p.tenant
		if has("profile") {
			// oid, preferred_username and name come with the profile
			// scope only (Microsoft's ID token claims reference); an
			// openid-only token has the pairwise sub and tid.
			c["oid"], c["preferred_username"], c["name"] = id, u.Email, name
		}
		if has("email") {
			c["email"] = u.Email
		}
	case sso.GoogleWorkspace:
		c["sub"] = id
		if has("email") {
			c["email"], c["email_verified"] = u.Email, true
		}
		if hd := hostedDomain(u.Email); hd != "" {
			c["hd"] = hd
		}
		if has("profile") {
			c["name"], c["given_name"], c["family_name"] = name, u.GivenName, u.FamilyName
			c["picture"] = "https://lh3.googleusercontent.com/a/mock"
		}
	case sso.OneLogin:
		c["sub"] = id
		c["email"], c["preferred_username"], c["name"] = u.Email, u.Email, name
		if has("profile") {
			c["given_name"], c["family_name"] = u.GivenName, u.FamilyName
			// OneLogin's v2 userinfo documents updated_at as a Unix time in
			// milliseconds (developers.onelogin.com/openid-connect/api/user-info:
			// "updated_at": 1590019767000), not OIDC's seconds; v1 sent an
			// ISO-8601 string until its shutdown in 2021. A relying party
			// that reads it as seconds meets a date far in the future.
			c["updated_at"] = p.now().Truncate(time.Hour).UnixMilli()
		}
		if has("groups") {
			if p.cfg.GroupsFormat == "array" {
				c["groups"] = nonNil(u.Groups)
			} else {
				c["groups"] = strings.Join(u.Groups, ";")
			}
		}
		if has("params") {
			params, _ := u.Claims["params"].(map[string]any)
			if params == nil {
				params = map[string]any{}
			}
			c["params"] = params
		}
	case sso.JumpCloud:
		c["sub"] = id
		if has("email") {
			c["email"], c["email_verified"] = u.Email, true
		}
		if has("profile") {
			c["given_name"], c["family_name"] = u.GivenName, u.FamilyName
		}
		if len(u.Groups) > 0 {
			claim := p.cfg.GroupsClaim
			if claim == "" {
				claim = "memberOf"
			}
			c[claim] = u.Groups
		}
	}
	return c
}

// protectedClaims are never overridden by a user's custom claims.
var protectedClaims = map[string]bool{"iss": true, "aud": true, "exp": true, "iat": true, "nbf": true,
	"nonce": true, "sub": true, "at_hash": true, "azp": true, "auth_time": true}

// idTokenClaims assembles the ID token for g.
func (p *Persona) idTokenClaims(u *UserConfig, g *grant, accessToken string, now time.Time) map[string]any {
	c := p.identityClaims(u, g)
	for k, v := range u.Claims {
		if !protectedClaims[k] && !(p.cfg.Vendor == sso.OneLogin && k == "params") {
			c[k] = v
		}
	}
	if p.cfg.ClaimsInUserinfoOnly {
		thin := map[string]any{}
		for _, k := range []string{"sub", "oid", "tid"} {
			if v, ok := c[k]; ok {
				thin[k] = v
			}
		}
		c = thin
	}
	c["iss"] = p.base() + g.set.issuer
	c["aud"] = g.client
	if p.cfg.Vendor == sso.JumpCloud {
		c["aud"] = []string{g.client} // Ory Hydra's ID tokens: aud is an array
	}
	c["iat"] = now.Unix()
	c["exp"] = now.Add(time.Hour).Unix()
	if g.nonce != "" {
		c["nonce"] = g.nonce
	}
	switch p.cfg.Vendor {
	case sso.Okta:
		c["ver"] = 1
		c["jti"] = "ID." + randomToken(24)
		c["amr"] = []string{"pwd"}
		c["idp"] = "00o" + base62(p.hash("org", ""), 17)
		c["auth_time"] = g.authTime.Unix()
	case sso.AzureAD:
		c["ver"] = "2.0"
		c["nbf"] = now.Unix()
		c["uti"] = randomToken(16)
		c["rh"] = "0.A" + randomToken(20) + "."
		c["aio"] = randomToken(32)
		if len(u.Roles) > 0 {
			c["roles"] = u.Roles
		}
		if len(u.Groups) > azureOverage {
			c["_claim_names"] = map[string]any{"groups": "src1"}
			c["_claim_sources"] = map[string]any{"src1": map[string]any{
				"endpoint": p.base() + "/graph/v1.0/users/" + p.userID(u) + "/getMemberObjects"}}
		} else if len(u.Groups) > 0 {
			c["groups"] = p.groupIDs(u.Groups)
		}
	case sso.GoogleWorkspace:
		c["azp"] = g.client
	case sso.JumpCloud:
		c["auth_time"] = g.authTime.Unix()
	}
	if p.prof.atHash && accessToken != "" {
		c["at_hash"] = tokenHash(accessToken)
	}
	return c
}

// groupIDs maps Azure group names to object IDs.
func (p *Persona) groupIDs(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		if id, ok := p.cfg.GroupIDs[n]; ok {
			out[i] = id
		} else {
			out[i] = guid(p.hash("group", n))
		}
	}
	return out
}

func (p *Persona) userID(u *UserConfig) string {
	if u.ID != "" {
		return u.ID
	}
	return p.prof.userID(p, strings.ToLower(u.Email))
}

// hash derives stable identifiers from the persona's name, a purpose and a
// value, so IDs survive restarts and differ between personas.
func (p *Persona) hash(purpose, v string) []byte {
	s := sha256.Sum256([]byte(p.cfg.Name + "\x00" + purpose + "\x00" + v))
	return s[:]
}

func guid(b []byte) string {
	var u [16]byte
	copy(u[:], b)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

const base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func base62(b []byte, n int) string {
	out := make([]byte, n)
	for i := range out {
		out[i] = base62Alphabet[int(b[i%len(b)])%62]
	}
	return string(out)
}

func digits(b []byte, n int) string {
	v := binary.BigEndian.Uint64(b[:8])
	s := fmt.Sprintf("1%020d", v)
	if n < len(s) {
		return s[:n]
	}
	return s
}

// pairwise is Azure's per-application subject.
func pairwise(oid, client string) string {
	s := sha256.Sum256([]byte(oid + "\x00" + client))
	return base64.RawURLEncoding.EncodeToString(s[:])[:43]
}

// hostedDomain is Google's hd: the domain of a Workspace account, nothing
// for a consumer account.
func hostedDomain(email string) string {
	_, domain, _ := strings.Cut(strings.ToLower(email), "@")
	switch domain {
	case "gmail.com", "googlemail.com", "":
		return ""
	}
	return domain
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// tokenHash is the OIDC at_hash / c_hash of v for RS256: the base64url of
// the left half of its SHA-256.
func tokenHash(v string) string {
	d := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(d[:16])
}

// tokenType is the token_type of the vendor's token responses: Ory Hydra
// (JumpCloud) writes it in lower case (ory/hydra#1934 shows "bearer").
func tokenType(v sso.Vendor) string {
	if v == sso.JumpCloud {
		return "bearer"
	}
	return "Bearer"
}

// Microsoft Graph, the resource of an Azure AD access token for the
// openid, profile and email scopes.
const graphAppID = "00000003-0000-0000-c000-000000000000"

// accessTokenClaims are the claims of a JWT access token for g, or nil
// where the vendor issues opaque ones: Okta's custom authorization server
// (not its org server) and Azure AD (a v1.0 token for Microsoft Graph)
// issue JWTs; Google, OneLogin and JumpCloud's are opaque here.
func (p *Persona) accessTokenClaims(u *UserConfig, g *grant, now time.Time) map[string]any {
	switch {
	case p.cfg.Vendor == sso.Okta && g.set.accessAudience != "":
		return map[string]any{
			"ver": 1, "jti": "AT." + randomToken(32),
			"iss": p.base() + g.set.issuer, "aud": g.set.accessAudience,
			"iat": now.Unix(), "exp": now.Add(accessTTL).Unix(),
			"cid": g.client, "uid": p.userID(u), "scp": nonNil(g.scopes),
			"auth_time": g.authTime.Unix(), "sub": u.Email,
		}
	case p.cfg.Vendor == sso.AzureAD:
		oid := p.userID(u)
		scp := []string{}
		for _, s := range g.scopes {
			if s != "offline_access" {
				scp = append(scp, s)
			}
		}
		scp = append(scp, "User.Read")
		return map[string]any{
			"aud": graphAppID, "iss": "https://sts.windows.net/" + p.tenant + "/",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(accessTTL).Unix(),
			"appid": g.client, "appidacr": "1", "idp": "https://sts.windows.net/" + p.tenant + "/",
			"idtyp": "user", "oid": oid, "tid": p.tenant, "sub": pairwise(oid, graphAppID),
			"name":       strings.TrimSpace(u.GivenName + " " + u.FamilyName),
			"given_name": u.GivenName, "family_name": u.FamilyName,
			"unique_name": u.Email, "upn": u.Email, "scp": strings.Join(scp, " "),
			"ver": "1.0", "uti": randomToken(16), "aio": randomToken(32), "rh": "0.A" + randomToken(20) + ".",
		}
	}
	return nil
}

// appTokenClaims are an app-only v1.0 Microsoft Graph access token's
// claims from the client credentials grant (Microsoft's "Access token
// claims reference"): idtyp app, the service principal's oid and sub,
// appid, the granted application permissions as roles, no scp and no
// user claims.
func (p *Persona) appTokenClaims(cl ClientConfig, resource string, now time.Time) map[string]any {
	sp := guid(p.hash("service-principal", cl.ClientID))
	c := map[string]any{
		"aud": resource, "iss": "https://sts.windows.net/" + p.tenant + "/",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(accessTTL).Unix(),
		"aio": randomToken(32), "app_displayname": cl.ClientID,
		"appid": cl.ClientID, "appidacr": "1", "idp": "https://sts.windows.net/" + p.tenant + "/",
		"idtyp": "app", "oid": sp, "sub": sp, "tid": p.tenant,
		"rh": "0.A" + randomToken(20) + ".", "uti": randomToken(16), "ver": "1.0",
	}
	if len(cl.ApplicationPermissions) > 0 {
		c["roles"] = slices.Clone(cl.ApplicationPermissions)
	}
	return c
}

// azureUserinfo is Microsoft Graph's OIDC userinfo: the ID token's sub, the
// name claims and picture for profile, email for email, nothing else (no
// oid, tid or preferred_username; learn.microsoft.com, "Microsoft identity
// platform UserInfo endpoint").
func (p *Persona) azureUserinfo(u *UserConfig, g *grant) map[string]any {
	c := map[string]any{"sub": pairwise(p.userID(u), g.client)}
	if g.hasScope("profile") {
		c["name"] = strings.TrimSpace(u.GivenName + " " + u.FamilyName)
		c["given_name"], c["family_name"] = u.GivenName, u.FamilyName
		c["picture"] = "https://graph.microsoft.com/v1.0/me/photo/$value"
	}
	if g.hasScope("email") {
		c["email"] = u.Email
	}
	return c
}
