package mockidp

// RoutePatterns are the patterns of every route the server registered,
// for the route walk.
func (s *Server) RoutePatterns() []string { return s.mux.Patterns() }
