package dashboard

// RoutePatterns are the patterns of the dashboard's own routes (the API's
// are the API's), for the route walk.
func (d *Dashboard) RoutePatterns() []string { return d.dash.Patterns() }
