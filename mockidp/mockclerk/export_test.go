package mockclerk

import "github.com/ssokit/ssokit/idp"

// RouteTables lists the FAPI's and the BAPI's endpoints ("METHOD /path",
// relative to their prefixes) for the route walk test.
func (c *Clerk) RouteTables() (fapi, bapi []string) {
	for _, r := range c.frontendRoutes() {
		fapi = append(fapi, r.method+" "+r.path)
	}
	for _, r := range c.backendRoutes() {
		bapi = append(bapi, r.method+" "+r.path)
	}
	return fapi, bapi
}

// SetConnector puts conn in place of the connector the mock would build for
// connection connID, for tests of what sign-in does with an identity.
func (c *Clerk) SetConnector(connID string, conn idp.Connector) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.connectors[connID] = conn
}
