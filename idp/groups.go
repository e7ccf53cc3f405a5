package idp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// GroupResolver fetches a person's groups when Azure AD sent the overage
// claim (_claim_names / _claim_sources) instead of them: endpoint is the
// claim source, accessToken the login's access token.
type GroupResolver interface {
	// ResolveGroups returns the person's groups from the claim source.
	ResolveGroups(ctx context.Context, id *Identity, endpoint, accessToken string) ([]string, error)
}

// GraphGroupResolver calls the claim source as Microsoft Graph's
// getMemberObjects (POST, Bearer access token, {"value":[object IDs]}).
// The access token must carry a Graph permission (User.Read /
// GroupMember.Read.All) in a real tenant; the mock accepts its own tokens.
type GraphGroupResolver struct {
	// HTTPClient calls Graph. Nil means http.DefaultClient.
	HTTPClient *http.Client
}

// ResolveGroups implements GroupResolver.
func (g GraphGroupResolver) ResolveGroups(ctx context.Context, id *Identity, endpoint, accessToken string) ([]string, error) {
	if !strings.HasPrefix(endpoint, "https://") && !strings.HasPrefix(endpoint, "http://127.0.0.1") {
		return nil, fmt.Errorf("idp: group claim source %q is not https", endpoint)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(`{"securityEnabledOnly":false}`))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Content-Type", "application/json")
	c := g.HTTPClient
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("idp: group claim source answered %d", resp.StatusCode)
	}
	var out struct {
		Value []string `json:"value"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&out); err != nil {
		return nil, err
	}
	return out.Value, nil
}
