#!/usr/bin/env bash
# Runs ssokit's peer benchmarks and prints medians of COUNT runs as ratios
# (machines are shared and noisy: read ratios, not absolute times):
#   BenchmarkVerify    Clerk token verification: ratio to a bare RSA verify
#                      (rsa_floor) and to clerk-sdk-go's HTTP middleware
#   BenchmarkCodeFlow  complete headless OIDC code flows against the mock:
#                      ratio to oauth2-proxy/mockoidc in the same run
#   BenchmarkSAMLResponse  signed SAML responses (Okta, Azure shapes): ratio
#                      to crewjam's IdentityProvider default response
#   BenchmarkACS       idp's full SAML ACS path: ratio to crewjam's bare
#                      ServiceProvider.ParseXMLResponse on the same response
#   BenchmarkOIDCCallback  idp's OIDC callback (exchange + verify): ratio to
#                      go-oidc's bare Verify
# Usage: scripts/bench.sh            # COUNT=5, BENCHTIME=1s
#        COUNT=10 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-5}
benchtime=${BENCHTIME:-1s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench '^(BenchmarkVerify|BenchmarkAppCredentials)$' -benchmem -count "$count" -benchtime "$benchtime" ./middleware | tee -a "$out" >&2
go test -run '^$' -bench '^(BenchmarkCodeFlow|BenchmarkSAMLResponse)$' -benchmem -count "$count" -benchtime "$benchtime" ./mockidp | tee -a "$out" >&2
go test -run '^$' -bench '^(BenchmarkACS|BenchmarkOIDCCallback)$' -benchmem -count "$count" -benchtime "$benchtime" ./idp | tee -a "$out" >&2
awk '
/^Benchmark[A-Za-z]+\// {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 2; i <= NF; i++) {
		if ($(i) == "ns/op") ns[name, ++n[name]] = $(i-1)
		if ($(i) == "allocs/op") allocs[name] = $(i-1)
	}
	if (!(name in seen)) { seen[name] = 1; order[++m] = name }
}
function median(name,   a, c, i, j, t) {
	c = n[name]
	if (c == 0) return 0
	for (i = 1; i <= c; i++) a[i] = ns[name, i] + 0
	for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
}
END {
	floor = median("BenchmarkVerify/rsa_floor"); mw = median("BenchmarkVerify/clerk_middleware")
	peer = median("BenchmarkCodeFlow/mockoidc")
	if (floor == 0 || mw == 0 || peer == 0) { print "bench.sh: a reference benchmark is missing" > "/dev/stderr"; exit 1 }
	printf "\n%-44s %12s %10s %12s %10s\n", "Clerk verification (median)", "ns/op", "x floor", "x clerk mw", "allocs/op"
	for (i = 1; i <= m; i++) {
		k = order[i]; if (k !~ /^BenchmarkVerify\//) continue
		md = median(k); short = k; sub(/^BenchmarkVerify\//, "", short)
		printf "%-44s %12.1f %10.4f %12.4f %10s\n", short, md, md / floor, md / mw, allocs[k]
	}
	printf "\n%-44s %12s %10s %16s\n", "OIDC code flows (median)", "ns/flow", "flows/s", "x mockoidc rate"
	for (i = 1; i <= m; i++) {
		k = order[i]; if (k !~ /^BenchmarkCodeFlow\//) continue
		md = median(k); short = k; sub(/^BenchmarkCodeFlow\//, "", short)
		printf "%-44s %12.0f %10.0f %16.2f\n", short, md, 1e9 / md, peer / md
	}
	cj = median("BenchmarkSAMLResponse/crewjam_default")
	printf "\n%-44s %12s %10s %16s\n", "SAML responses (median)", "ns/resp", "resp/s", "x crewjam rate"
	for (i = 1; i <= m; i++) {
		k = order[i]; if (k !~ /^BenchmarkSAMLResponse\//) continue
		md = median(k); short = k; sub(/^BenchmarkSAMLResponse\//, "", short)
		printf "%-44s %12.0f %10.0f %16.2f\n", short, md, 1e9 / md, cj / md
	}
	hit = median("BenchmarkAppCredentials/clerk_cache_hit")
	printf "\n%-44s %12s %16s\n", "App credentials (median)", "ns/op", "x Clerk cache hit"
	for (i = 1; i <= m; i++) {
		k = order[i]; if (k !~ /^BenchmarkAppCredentials\//) continue
		md = median(k); short = k; sub(/^BenchmarkAppCredentials\//, "", short)
		printf "%-44s %12.1f %16.2f\n", short, md, md / hit
	}
	acs = median("BenchmarkACS/ssokit_acs"); bare = median("BenchmarkACS/crewjam_parse")
	cb = median("BenchmarkOIDCCallback/ssokit_callback"); gv = median("BenchmarkOIDCCallback/go_oidc_verify")
	printf "\n%-44s %12s %16s\n", "Relying party (median)", "ns/op", "x peer"
	printf "%-44s %12.0f %16.2f\n", "ssokit SAML ACS vs crewjam ParseXMLResponse", acs, acs / bare
	printf "%-44s %12.0f %16.2f\n", "ssokit OIDC callback vs go-oidc Verify", cb, cb / gv
	printf "\ntargets: ssokit_cold <= 1.3x floor (now %.2fx); ssokit_cache_hit <= 0.03x floor, 0 allocs (now %.4fx, %s allocs); code flows >= 1x mockoidc (okta %.2fx, azure %.2fx); SAML responses >= 0.9x crewjam (okta %.2fx, azure %.2fx); ACS <= 1.1x crewjam parse (%.2fx); app cookie and API key <= 2x Clerk hit (%.2fx, %.2fx), RequirePermission <= 100 ns (%.0f)\n",
		median("BenchmarkVerify/ssokit_cold") / floor, median("BenchmarkVerify/ssokit_cache_hit") / floor, allocs["BenchmarkVerify/ssokit_cache_hit"],
		peer / median("BenchmarkCodeFlow/ssokit_okta"), peer / median("BenchmarkCodeFlow/ssokit_azure"),
		cj / median("BenchmarkSAMLResponse/ssokit_okta"), cj / median("BenchmarkSAMLResponse/ssokit_azure"), acs / bare,
		median("BenchmarkAppCredentials/app_cookie") / hit, median("BenchmarkAppCredentials/api_key") / hit, median("BenchmarkAppCredentials/require_permission")
}' "$out"
