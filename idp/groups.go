package idp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// GroupResolver fetches a person's groups when Azure AD sent the overage
// claim (_claim_names / _claim_sources) instead of them. The claim's
// endpoint is not passed on: it comes from the token, and the access token
// must only ever go to the resolver's configured Graph URL.
type GroupResolver interface {
	// ResolveGroups returns the groups of id (id.Subject is Azure's oid)
	// using the login's access token.
	ResolveGroups(ctx context.Context, id *Identity, accessToken string) ([]string, error)
}

// DefaultGraphURL is Microsoft Graph's root, GraphGroupResolver's default.
const DefaultGraphURL = "https://graph.microsoft.com"

// GraphGroupResolver calls Microsoft Graph's getMemberObjects for the
// person (POST {BaseURL}/v1.0/users/{oid}/getMemberObjects, Bearer access
// token, {"value":[object IDs]}). The URL comes from this configuration
// only, never from the token or assertion. The access token must carry a
// Graph permission (User.Read / GroupMember.Read.All) in a real tenant;
// the mock accepts its own tokens.
type GraphGroupResolver struct {
	// BaseURL is Graph's root, without a trailing slash. Zero means
	// DefaultGraphURL; a national cloud sets its own
	// (https://graph.microsoft.us), a test the mock's.
	BaseURL string
	// HTTPClient calls Graph. Nil means a client with a 10 s timeout.
	HTTPClient *http.Client
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
	endpoint := base + "/v1.0/users/" + url.PathEscape(id.Subject) + "/getMemberObjects"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(`{"securityEnabledOnly":false}`))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Content-Type", "application/json")
	c := g.HTTPClient
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
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
