#!/usr/bin/env bash
# Runs the Clerk verification benchmarks side by side and prints each as a
# ratio to the raw RSA floor and to clerk-sdk-go's HTTP middleware, using
# the median of COUNT runs (machines are shared and noisy: read ratios, not
# absolute times).
#   scripts/bench.sh            # COUNT=5, BENCHTIME=1s
#   COUNT=10 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-5}
benchtime=${BENCHTIME:-1s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench '^BenchmarkVerify$' -benchmem -count "$count" -benchtime "$benchtime" ./middleware | tee "$out" >&2
awk '
/^BenchmarkVerify\// {
	name = $1; sub(/^BenchmarkVerify\//, "", name); sub(/-[0-9]+$/, "", name)
	for (i = 2; i <= NF; i++) {
		if ($(i) == "ns/op") ns[name, ++n[name]] = $(i-1)
		if ($(i) == "allocs/op") allocs[name] = $(i-1)
	}
	if (!(name in seen)) { seen[name] = 1; order[++m] = name }
}
function median(name,   k, a, c, i, j, t) {
	c = n[name]
	for (i = 1; i <= c; i++) a[i] = ns[name, i] + 0
	for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
}
END {
	floor = median("rsa_floor"); mw = median("clerk_middleware")
	if (floor == 0 || mw == 0) { print "bench.sh: rsa_floor or clerk_middleware missing" > "/dev/stderr"; exit 1 }
	printf "\n%-28s %12s %10s %14s %10s\n", "benchmark (median of runs)", "ns/op", "x floor", "x clerk mw", "allocs/op"
	for (i = 1; i <= m; i++) {
		k = order[i]; md = median(k)
		printf "%-28s %12.1f %10.4f %14.4f %10s\n", k, md, md / floor, md / mw, allocs[k]
	}
	printf "\ntargets: ssokit_cold <= 1.3x floor (now %.2fx); ssokit_cache_hit <= 0.03x floor with 0 allocs (now %.4fx, %s allocs)\n",
		median("ssokit_cold") / floor, median("ssokit_cache_hit") / floor, allocs["ssokit_cache_hit"]
}' "$out"
