package mockclerk

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
