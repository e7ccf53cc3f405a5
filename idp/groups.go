package idp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// GroupResolver fetches a person's groups when Azure AD sent the overage
// indicator instead of them: the _claim_names / _claim_sources claims of
// an ID token, or a SAML assertion's groups.link attribute. The indicator's
// URL is not passed on: it comes from the token or assertion, and no
// credential may ever go anywhere but the resolver's configured Graph.
type GroupResolver interface {
	// ResolveGroups returns the groups of id (id.Subject is Azure's
	// oid). accessToken is the OIDC login's access token; it is "" for a
	// SAML login, which comes with none, and the resolver then uses
	// credentials of its own.
	ResolveGroups(ctx context.Context, id *Identity, accessToken string) ([]string, error)
}

// DefaultGraphURL is Microsoft Graph's root, GraphGroupResolver's default.
const DefaultGraphURL = "https://graph.microsoft.com"

// GraphGroupResolver calls Microsoft Graph's getMemberObjects for the
// person (POST {BaseURL}/v1.0/users/{oid}/getMemberObjects with
// {"securityEnabledOnly":false}, Bearer token, {"value":[object IDs]}).
// The URL comes from this configuration only, never from the token or
// assertion. An OIDC login's own access token is used (it needs a
// delegated Graph permission such as User.Read or GroupMember.Read.All in
// a real tenant). A SAML login has none: the resolver then gets an
// app-only token with AppCredentials (the client credentials grant), and
// without them refuses the login with ErrGroupOverage.
type GraphGroupResolver struct {
	// BaseURL is Graph's root, without a trailing slash. Zero means
	// DefaultGraphURL; a national cloud sets its own
	// (https://graph.microsoft.us), a test the mock's.
	BaseURL string
	// HTTPClient calls Graph and AppCredentials' token endpoint. Nil
	// means a client with a 10 s timeout.
	HTTPClient *http.Client
	// AppCredentials, when set, get the app-only token used when there is
	// no user access token (SAML logins). Share one value between copies
	// of the resolver: it caches the token.
	AppCredentials *ClientCredentials
}

// ClientCredentials are an Entra app registration's credentials for the
// OAuth 2.0 client credentials grant (Microsoft identity platform, "OAuth
// 2.0 client credentials flow"), which GraphGroupResolver uses to read the
// groups of SAML logins. The app needs the GroupMember.Read.All (or
// Directory.Read.All) Microsoft Graph application permission with admin
// consent. The token is cached, one per ClientCredentials, until shortly
// before it expires. A ClientCredentials must not be copied after first
// use.
//
// An app-only token reads the groups of anyone in its tenant, and the
// person a SAML lookup asks about is named by the assertion (its
// objectidentifier). Put AppCredentials only on connections whose IdP
// metadata the holder of these credentials configured: a connection
// someone else configured (an IdP certificate of theirs) could name any
// person of the tenant. TenantID narrows the lookups to the tenant's own
// people.
type ClientCredentials struct {
	// TenantID is the directory (tenant) ID, a GUID, the app registration
	// takes tokens for. Required: an app-only lookup is made only for an
	// identity of this tenant (the assertion's tenantid); another is
	// refused with ErrNotAllowed (ReasonTenant).
	TenantID string
	// TokenURL is the tenant's v2.0 token endpoint,
	// https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token (a
	// tenant ID or domain, never common or organizations).
	TokenURL string
	// ClientID and ClientSecret are the app registration's application
	// (client) ID and a client secret.
	ClientID, ClientSecret string
	// Scope is the resource's .default scope. Zero means
	// {GraphGroupResolver.BaseURL}/.default
	// (https://graph.microsoft.com/.default).
	Scope string
	// AuthMethod is client_secret_post (zero) or client_secret_basic.
	AuthMethod string

	mu      sync.Mutex
	token   string
	expires time.Time
}

// ErrNoAppCredentials is what a GroupResolver returns for a login without
// an access token (SAML) when it has no app-only credentials to use for
// it: the login is refused with ErrGroupOverage, saying what to set.
var ErrNoAppCredentials = errors.New("idp: no app-only Graph credentials for a login without an access token")

// ErrAppOnlyTenant is returned by GraphGroupResolver.ResolveGroups for an
// app-only lookup of a person outside ClientCredentials.TenantID (or with
// no TenantID configured): the credentials read nobody else's groups.
var ErrAppOnlyTenant = errors.New("idp: the person is not of the tenant the app-only Graph credentials are for")

// Bounds on the app-only token cache: a token is reused at most this
// long, and dropped this long before it expires (or halfway through a
// shorter life).
const (
	appTokenMaxAge = time.Hour
	appTokenMargin = 5 * time.Minute
)

func (g GraphGroupResolver) client() *http.Client {
	if g.HTTPClient != nil {
		return g.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// ResolveGroups implements GroupResolver.
func (g GraphGroupResolver) ResolveGroups(ctx context.Context, id *Identity, accessToken string) ([]string, error) {
	base := strings.TrimSuffix(g.BaseURL, "/")
	if base == "" {
		base = DefaultGraphURL
	}
	if id == nil || id.Subject == "" || strings.ContainsAny(id.Subject, "/?#%\\") || id.Subject == "." || id.Subject == ".." {
		return nil, fmt.Errorf("idp: no usable object ID to ask Graph about")
	}
	appOnly := accessToken == ""
	if appOnly {
		if g.AppCredentials == nil {
			return nil, ErrNoAppCredentials
		}
		if t := g.AppCredentials.TenantID; t == "" || !isGUID(t) || !strings.EqualFold(t, id.TenantID) || !isGUID(id.Subject) {
			return nil, fmt.Errorf("%w: tenant %q, object %q (AppCredentials.TenantID %q)", ErrAppOnlyTenant, id.TenantID, id.Subject, t)
		}
		tok, err := g.AppCredentials.get(ctx, g.client(), base)
		if err != nil {
			return nil, err
		}
		accessToken = tok
	}
	endpoint := base + "/v1.0/users/" + url.PathEscape(id.Subject) + "/getMemberObjects"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(`{"securityEnabledOnly":false}`))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if appOnly && resp.StatusCode == http.StatusUnauthorized {
			g.AppCredentials.forget(accessToken)
		}
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e)
		if e.Error.Code != "" {
			return nil, fmt.Errorf("idp: Graph answered %d %s", resp.StatusCode, e.Error.Code)
		}
		return nil, fmt.Errorf("idp: Graph answered %d", resp.StatusCode)
	}
	var out struct {
		Value []string `json:"value"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// get returns the cached app-only token, or asks the token endpoint for a
// new one. The lock is held during the request, so concurrent logins wait
// for one token rather than each asking.
func (c *ClientCredentials) get(ctx context.Context, hc *http.Client, graphBase string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Now().Before(c.expires) {
		return c.token, nil
	}
	if c.TokenURL == "" || c.ClientID == "" || c.ClientSecret == "" {
		return "", fmt.Errorf("idp: AppCredentials need TokenURL, ClientID and ClientSecret")
	}
	scope := c.Scope
	if scope == "" {
		scope = graphBase + "/.default"
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	switch c.AuthMethod {
	case "", "client_secret_post":
		form.Set("client_id", c.ClientID)
		form.Set("client_secret", c.ClientSecret)
	case "client_secret_basic":
	default:
		return "", fmt.Errorf("idp: AppCredentials.AuthMethod %q is not client_secret_post or client_secret_basic", c.AuthMethod)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.AuthMethod == "client_secret_basic" {
		// RFC 6749 section 2.3.1: form-urlencoded before base64.
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	}
	sent := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil && resp.StatusCode == http.StatusOK {
		return "", fmt.Errorf("idp: app token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		if out.Error != "" {
			return "", fmt.Errorf("idp: app token endpoint answered %d %s", resp.StatusCode, out.Error)
		}
		return "", fmt.Errorf("idp: app token endpoint answered %d", resp.StatusCode)
	}
	if out.AccessToken == "" || !strings.EqualFold(out.TokenType, "Bearer") || out.ExpiresIn <= 0 {
		return "", fmt.Errorf("idp: app token response without a Bearer access_token and expires_in")
	}
	life := min(time.Duration(out.ExpiresIn)*time.Second, appTokenMaxAge)
	c.token, c.expires = out.AccessToken, sent.Add(life-min(appTokenMargin, life/2))
	return c.token, nil
}

// forget drops tok from the cache (Graph refused it).
func (c *ClientCredentials) forget(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == tok {
		c.token = ""
	}
}

// groupRefusal is the refusal of a login whose overage groups could not be
// resolved. The refusal reaches the organization's SSO log, so a request
// that failed on the network (its error names the operator's Graph or
// token URL and what answered at the address) is named only as that; the
// error goes to the operator's log.
func groupRefusal(log *slog.Logger, conn string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		log.Warn("idp: resolving overage groups failed", "connection", conn, "err", err)
		return refuse(ErrUpstream, ReasonGroupOverage, "resolving the overage groups: the request to Graph failed")
	}
	return refuse(ErrUpstream, ReasonGroupOverage, "resolving the overage groups: %v", err)
}
