// Package bench measures ssokit beside its peers on the same inputs, in
// one benchmark per comparison so scripts/bench.sh can run both sides back
// to back in every round: Clerk token verification against golang-jwt and
// clerk-sdk-go, and the HTTP middleware against clerk-sdk-go's.
package bench
