package client

import (
	"context"
	"net/http"

	"github.com/ssokit/ssokit/api"
)

// SAMLServiceProvider returns the app's side of an organization's direct
// SAML connection (entity ID, ACS URL, metadata URL, signing certificate)
// for its IdP administrator. An organization without a direct SAML
// connection is refused with code "no_connection".
func (o *Organizations) SAMLServiceProvider(ctx context.Context, org string) (api.SAMLServiceProvider, error) {
	var out api.SAMLServiceProvider
	err := o.c.do(ctx, http.MethodGet, orgPath(org, "sso", "saml"), nil, &out)
	return out, err
}
