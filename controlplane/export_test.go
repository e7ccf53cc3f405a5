package controlplane

// RoutePatterns are the patterns of every route the API registered, for
// the route walk.
func (a *API) RoutePatterns() []string { return a.mux.Patterns() }
