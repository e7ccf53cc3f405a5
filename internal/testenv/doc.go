// Package testenv is test support for ssokit's own suites: whether an
// outside tool is there, and the rule for when it is not (skip with a
// message on a developer's machine, fail under CI).
//
//	node := testenv.LookPath(t, "node", "install Node.js 20")
//	dir := testenv.NodeModules(t)
package testenv
