#!/usr/bin/env bash
# ssokit against its peers, pair by pair, measured in the same rounds.
#
# Machines are shared and noisy, so a pair is never measured as five runs of
# one side and then five of the other. Each round runs every row once
# (`-count 1`): ssokit's benchmark and the peer's back to back (ours first in
# odd rounds, the peer first in even ones), and the round's ratio is ours
# ns/op divided by the peer's. The table gives, per row, the median of those
# ratios and their spread (min–max over the rounds): below 1 means ssokit
# takes less time per operation. Throughput rows (trow) give the other
# ratio, ssokit's requests/s over the peer's (the peer's ns/op over ours):
# above 1 means ssokit serves more. Read ratios, not absolute times.
#
# The table is Markdown. After it come the RSA limit (the best cold HTTP
# throughput relative to bare any verifier can reach, from the same rounds'
# own measurements) and the targets, each with the measured median, the
# target and PASS or MISS.
#
#   scripts/bench.sh                     # ROUNDS=7, BENCHTIME=1s, every row
#   ROUNDS=11 BENCHTIME=2s scripts/bench.sh
#   ROWS=1,4 scripts/bench.sh            # re-measure rows 1 and 4 only
# Keep BENCHTIME at 1s or more: with less, a benchmark whose first iteration
# is slow (a cold key fetch) may run only that iteration and report it.
#
# It prints the Go version, CPU, date, commit and the exact command first, so
# any figure can be re-measured the same way.
set -euo pipefail
cd "$(dirname "$0")/.."

# ---- the rows ---------------------------------------------------------------
# row DIR OURS PEER LABEL NOTE [PEER_DIR]
#   DIR       package directory, relative to the repository root (any
#             module: the package is built from inside its directory)
#   OURS      -bench regexp that selects exactly one benchmark: ssokit's side
#   PEER      -bench regexp that selects exactly one benchmark: the peer's
#             side; "" for a figure of ssokit's alone
#   LABEL     what is compared, as the table shows it
#   NOTE      "" when the comparison is like for like; otherwise what differs
#   PEER_DIR  the peer benchmark's package directory when it is not DIR
# Sub-benchmarks are selected as '^BenchmarkX$/^name$' (go test -bench splits
# the regexp at each slash).
# trow takes the same arguments for a throughput row: the ratio is ssokit's
# requests/s over the peer's.
# target SPEC TEXT sets the row above's target, checked after the table:
#   ge X  the median ratio is at least X     le X  at most X
#   le X allocs0   and ssokit's side allocates nothing in any round
#   ge X rsa       (on the cold-vs-bare throughput row) the median over the
#                  rounds of (ratio / that round's RSA limit) is at least X
# mark_sig_row marks the row above as the one whose peer side is a handler
# that only checks a signature: the report gives that handler's throughput
# relative to the RSA limit too, the limit measured on a server.
# rsa_row marks the row above as the RSA check alone (50 goroutines, ns/op
# wall time per check): ssokit's own on its side, crypto/rsa's on the peer
# side. The RSA limit of a round is bare / (bare + rsa), in ns/op, with rsa
# the peer side (crypto/rsa, which every peer uses) and bare the peer side
# of the "ge X rsa" row in the same round; the same limit with ssokit's own
# check (its side) is printed beside it.
rows_dir=() rows_ours=() rows_peer=() rows_label=() rows_note=() rows_peerdir=() rows_kind=() rows_target=() rows_tdesc=()
rsa_row=-1 sig_row=-1
row() {
	rows_dir+=("$1") rows_ours+=("$2") rows_peer+=("$3") rows_label+=("$4") rows_note+=("$5") rows_peerdir+=("${6:-$1}")
	rows_kind+=(time) rows_target+=("") rows_tdesc+=("")
}
trow() { row "$@"; rows_kind[-1]=tput; }
target() { rows_target[-1]=$1 rows_tdesc[-1]=$2; }
mark_rsa_row() { rsa_row=$((${#rows_dir[@]} - 1)); }
mark_sig_row() { sig_row=$((${#rows_dir[@]} - 1)); }

row clerkauth '^BenchmarkVerify$/^ssokit_cold$' '^BenchmarkVerify$/^rsa_floor$' \
	"Clerk token cold vs bare rsa.VerifyPKCS1v15" \
	"not a peer: crypto/rsa's RSA check alone, no parsing or claims; ssokit checks with its own (row 11)"
row clerkauth '^BenchmarkVerify$/^ssokit_cold$' '^BenchmarkVerify$/^own_rsa_floor$' \
	"Clerk token cold vs ssokit's own RSA check alone" \
	"not a peer: what ssokit does beside the RSA check (hash, decode, strict JSON, claims, key lookup, session), one goroutine"
row peers/bench '^BenchmarkVerify$/^ssokit_cold$' '^BenchmarkVerify$/^golang_jwt$' \
	"Clerk token cold vs golang-jwt ParseWithClaims" \
	"golang-jwt gets the key passed in and checks iss/exp; ssokit also finds the kid in its JWKS and checks azp"
row peers/bench '^BenchmarkVerify$/^ssokit_cold$' '^BenchmarkVerify$/^clerk_jwt_verify$' \
	"Clerk token cold vs clerk-sdk-go jwt.Verify" \
	"clerk-sdk-go gets the JWK passed in; ssokit finds the kid in its JWKS"
row peers/bench '^BenchmarkVerify$/^ssokit_middleware_cold$' '^BenchmarkVerify$/^clerk_middleware$' \
	"HTTP middleware cold vs clerk-sdk-go RequireHeaderAuthorization" ""
row clerkauth '^BenchmarkVerify$/^ssokit_cache_hit$' '' \
	"Clerk token repeated (token cache hit)" \
	"ssokit alone: no peer caches verified tokens"
row middleware '^BenchmarkAppCredentials$/^app_cookie$' '^BenchmarkAppCredentials$/^clerk_cache_hit$' \
	"App session cookie (org lookup + role) vs Clerk cache hit" \
	"in-house baseline, not a peer"
target "le 1.5 allocs0" "app cookie ≤ 1.5× the Clerk cache hit in ns/op, 0 allocations"
row middleware '^BenchmarkAppCredentials$/^api_key$' '^BenchmarkAppCredentials$/^clerk_cache_hit$' \
	"Agent API key (org lookup + role) vs Clerk cache hit" \
	"in-house baseline, not a peer"
row middleware '^BenchmarkAppCredentials$/^require_permission$' '' \
	"RequirePermission" \
	"ssokit alone"
# HTTP throughput: a loopback server, 50 keep-alive clients in the same
# process (peers/bench BenchmarkHTTP); a trivial handler bare and wrapped,
# the bare side sent the same request (the same credential header).
trow peers/bench '^BenchmarkHTTP$/^ssokit_cache_hit$' '^BenchmarkHTTP$/^bare_bearer$' \
	"HTTP req/s, Clerk token cache hit, relative to bare" \
	"full app middleware (Clerk, app sessions, API keys, admission); bare is sent the same Authorization header"
target "ge 0.9" "cache hit ≥ 0.9× bare throughput"
trow peers/bench '^BenchmarkHTTP$/^ssokit_cold$' '^BenchmarkHTTP$/^bare_cold$' \
	"HTTP req/s, Clerk token cold, relative to bare" \
	"every token verified in full: token cache off, 256 distinct tokens in turn"
target "ge 0.9 rsa" "cold ≥ 0.9× the RSA limit"
row peers/bench '^BenchmarkHTTP$/^rsaverify_verify$' '^BenchmarkHTTP$/^rsa_verify$' \
	"RS256 check alone, ssokit's (key prepared once) vs rsa.VerifyPKCS1v15, 50 goroutines (for the RSA limit)" \
	"not a peer: crypto/rsa recomputes the key's Montgomery constants on every check; ns/op is wall time per check on all cores"
mark_rsa_row
trow peers/bench '^BenchmarkHTTP$/^ssokit_cold$' '^BenchmarkHTTP$/^rsa_handler$' \
	"HTTP req/s, Clerk token cold, relative to a handler that only checks an RS256 signature" \
	"the RSA limit measured instead of computed: that handler checks one fixed signature per request and writes ok, sent the same 256 tokens"
mark_sig_row
trow peers/bench '^BenchmarkHTTP$/^ssokit_app_cookie$' '^BenchmarkHTTP$/^bare_cookie$' \
	"HTTP req/s, app session cookie, relative to bare" \
	"steady state: checked before, store unchanged"
target "ge 0.9" "app cookie ≥ 0.9× bare throughput"
trow peers/bench '^BenchmarkHTTP$/^ssokit_api_key$' '^BenchmarkHTTP$/^bare_api_key$' \
	"HTTP req/s, agent API key, relative to bare" \
	"steady state: checked before, store unchanged"
target "ge 0.9" "API key ≥ 0.9× bare throughput"
trow peers/bench '^BenchmarkHTTP$/^ssokit_cold$' '^BenchmarkHTTP$/^clerkhttp_cold$' \
	"HTTP req/s, Clerk token cold, relative to clerk-sdk-go clerkhttp" \
	"both verify every token (clerkhttp caches none), same 256 tokens, azp checked by both"
target "ge 2" "cold ≥ 2× clerkhttp's cold throughput"
row peers/bench '^BenchmarkCodeFlow$/^ssokit_okta$' '^BenchmarkCodeFlow$/^mockoidc$' \
	"Mock OIDC code flow, Okta vs oauth2-proxy/mockoidc" \
	"not like for like: mockoidc signs three JWTs per token response, the mock two (ID token, JWT access token)"
row peers/bench '^BenchmarkCodeFlow$/^ssokit_azure$' '^BenchmarkCodeFlow$/^mockoidc$' \
	"Mock OIDC code flow, Azure vs oauth2-proxy/mockoidc" \
	"not like for like: mockoidc signs three JWTs per token response, the mock two (ID token, JWT access token)"
row peers/bench '^BenchmarkSAMLResponse$/^ssokit_okta$' '^BenchmarkSAMLResponse$/^crewjam_default$' \
	"SAML response, Okta shape vs crewjam IdentityProvider" \
	"like for like: both sign response and assertion, two RSA signatures each"
row peers/bench '^BenchmarkSAMLResponse$/^ssokit_azure$' '^BenchmarkSAMLResponse$/^crewjam_default$' \
	"SAML response, Azure shape vs crewjam IdentityProvider" \
	"not like for like: crewjam's IdP signs response and assertion, the Azure shape only the assertion"
row idp '^BenchmarkACS$/^ssokit_acs$' '^BenchmarkACS$/^crewjam_parse$' \
	"SAML ACS, all checks vs crewjam ParseXMLResponse" \
	"not like for like: ssokit's ACS calls ParseXMLResponse and adds its own checks"
row idp '^BenchmarkOIDCCallback$/^ssokit_callback$' '^BenchmarkOIDCCallback$/^go_oidc_verify$' \
	"OIDC callback vs go-oidc IDTokenVerifier.Verify" \
	"not like for like: the callback includes the code exchange with the mock (HTTP + a signature); the peer only verifies"
# An authenticated request at steady state on each store, against the
# memory store: PostgreSQL and Redis are the servers the tests use.
for cred in cookie apikey; do
	what=$([ $cred = cookie ] && echo "App session cookie" || echo "Agent API key")
	for be in sqlite postgres postgres_redis; do
		label=$(case $be in sqlite) echo "SQLite file" ;; postgres) echo "PostgreSQL" ;; *) echo "PostgreSQL + Redis" ;; esac)
		row controlplane "^BenchmarkAuthenticated\$/^$be\$/^$cred\$" "^BenchmarkAuthenticated\$/^memory\$/^$cred\$" \
			"$what, $label store vs memory store" "in-house baseline: the same request on the in-process store"
		[ $be = sqlite ] || target "le 1.5" "$what, $label store ≤ 1.5× the memory store"
	done
done
export SSOKIT_TEST_POSTGRES=${SSOKIT_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
export SSOKIT_TEST_REDIS=${SSOKIT_TEST_REDIS:-127.0.0.1:6379}

# ---- settings ---------------------------------------------------------------
rounds=${ROUNDS:-7}
benchtime=${BENCHTIME:-1s}
selected=()
if [ -n "${ROWS:-}" ]; then
	IFS=, read -r -a want <<<"$ROWS"
	for n in "${want[@]}"; do
		[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le "${#rows_dir[@]}" ] ||
			{ echo "bench.sh: ROWS: no row $n (rows are 1-${#rows_dir[@]})" >&2; exit 2; }
		selected+=($((n - 1)))
	done
else
	for i in "${!rows_dir[@]}"; do selected+=("$i"); done
fi
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: ROUNDS must be a positive integer" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results # row round side ns/op allocs/op

# ---- what a figure was measured on ------------------------------------------
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
[ -n "$cpu" ] || cpu=$(sysctl -n machdep.cpu.brand_string 2>/dev/null || echo unknown)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
cmd="ROUNDS=$rounds BENCHTIME=$benchtime"
[ -z "${ROWS:-}" ] || cmd="$cmd ROWS=$ROWS"
cmd="$cmd scripts/bench.sh"
echo "go:       $(go version)"
echo "cpu:      $cpu ($(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') cores, GOMAXPROCS=${GOMAXPROCS:-default})"
echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit:   $commit"
echo "command:  $cmd"
echo "each run: cd DIR && go test -run '^\$' -bench REGEXP -benchmem -count 1 -benchtime $benchtime"
echo "          (built once per package with go test -c; the binary gets the same flags)"

# ---- build each package once -------------------------------------------------
declare -A bin=()
for i in "${selected[@]}"; do
	for d in "${rows_dir[$i]}" "${rows_peerdir[$i]}"; do
		[ -z "${bin[$d]:-}" ] || continue
		[ -d "$d" ] || { echo "bench.sh: row $((i + 1)): no directory $d (did the benchmark move? update the row)" >&2; exit 1; }
		b=$tmp/$(echo "$d" | tr / _).test
		echo "build:    $d" >&2
		(cd "$d" && go test -c -o "$b" .)
		bin[$d]=$b
	done
done

# measure ROW ROUND SIDE REGEXP: one -count 1 run, appended to $results.
measure() {
	local i=$1 r=$2 side=$3 re=$4 d out lines
	d=${rows_dir[$i]}
	[ "$side" = ours ] || d=${rows_peerdir[$i]}
	if ! out=$(cd "$d" && "${bin[$d]}" -test.run '^$' -test.bench "$re" -test.benchmem -test.count 1 -test.benchtime "$benchtime" 2>&1); then
		echo "$out" >&2
		echo "bench.sh: row $((i + 1)) ($d, $re) failed" >&2
		exit 1
	fi
	lines=$(grep -E '^Benchmark[^ ]*[[:space:]].* ns/op' <<<"$out" || true)
	case $(grep -c . <<<"$lines" || true) in
	1) ;;
	0)
		echo "bench.sh: row $((i + 1)): $re matches no benchmark in $d (renamed or moved? update the row)" >&2
		exit 1
		;;
	*)
		echo "$lines" >&2
		echo "bench.sh: row $((i + 1)): $re matches more than one benchmark in $d; make it select one" >&2
		exit 1
		;;
	esac
	awk -v i="$i" -v r="$r" -v s="$side" '{
		ns = ""; al = "-"
		for (f = 2; f <= NF; f++) { if ($f == "ns/op") ns = $(f-1); if ($f == "allocs/op") al = $(f-1) }
		print i, r, s, ns, al
	}' <<<"$lines" >>"$results"
	printf '.' >&2
}

# ---- rounds -----------------------------------------------------------------
for ((r = 1; r <= rounds; r++)); do
	printf 'round %d/%d ' "$r" "$rounds" >&2
	for i in "${selected[@]}"; do
		if [ -z "${rows_peer[$i]}" ]; then
			measure "$i" "$r" ours "${rows_ours[$i]}"
		elif ((r % 2)); then
			measure "$i" "$r" ours "${rows_ours[$i]}"
			measure "$i" "$r" peer "${rows_peer[$i]}"
		else
			measure "$i" "$r" peer "${rows_peer[$i]}"
			measure "$i" "$r" ours "${rows_ours[$i]}"
		fi
	done
	echo >&2
done

# ---- the table ----------------------------------------------------------------
for i in "${selected[@]}"; do
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "${rows_label[$i]}" "${rows_note[$i]}" "${rows_kind[$i]}" "${rows_target[$i]}" "${rows_tdesc[$i]}"
done >"$tmp/labels"
echo
awk -v rounds="$rounds" -v rsarow="$rsa_row" -v sigrow="$sig_row" '
function median(a, n,   i, j, t, b) {
	for (i = 1; i <= n; i++) b[i] = a[i]
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (b[j] < b[i]) { t = b[i]; b[i] = b[j]; b[j] = t }
	return (n % 2) ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2
}
function spread(a, n, fmt,   lo, hi, r) {
	lo = a[1]; hi = a[1]
	for (r = 2; r <= n; r++) { if (a[r] < lo) lo = a[r]; if (a[r] > hi) hi = a[r] }
	return sprintf(fmt, lo) "–" sprintf(fmt, hi)
}
function human(ns) {
	if (ns >= 1e6) return sprintf("%.2f ms", ns / 1e6)
	if (ns >= 1e3) return sprintf("%.1f µs", ns / 1e3)
	return sprintf("%.0f ns", ns)
}
function rate(ns,   x) {
	x = 1e9 / ns
	if (x >= 1e6) return sprintf("%.2fM req/s", x / 1e6)
	if (x >= 1e3) return sprintf("%.1fk req/s", x / 1e3)
	return sprintf("%.0f req/s", x)
}
function cell(s) { gsub(/\|/, "\\|", s); return s }
FNR == NR {
	split($0, f, "\t"); order[++m] = f[1]; label[f[1]] = f[2]; note[f[1]] = f[3]; kind[f[1]] = f[4]; tgt[f[1]] = f[5]; tdesc[f[1]] = f[6]
	next
}
{
	v[$1, $2, $3] = $4
	if ($3 == "ours") { allocs[$1] = $5; if ($5 != "-" && $5 + 0 > maxal[$1] + 0) maxal[$1] = $5 }
}
END {
	print "| # | comparison | ssokit | peer | ratio (median) | spread | allocs | note |"
	print "|---|---|---|---|---|---|---|---|"
	for (k = 1; k <= m; k++) {
		i = order[k]; hasPeer = ((i, 1, "peer") in v)
		delete o; delete p; delete q
		for (r = 1; r <= rounds; r++) {
			o[r] = v[i, r, "ours"]
			if (hasPeer) {
				p[r] = v[i, r, "peer"]
				q[r] = (kind[i] == "tput") ? p[r] / o[r] : o[r] / p[r]
			}
		}
		mo = median(o, rounds)
		if (hasPeer) {
			mp = median(p, rounds); med[i] = median(q, rounds)
			for (r = 1; r <= rounds; r++) ratio[i, r] = q[r]
			if (kind[i] == "tput")
				printf "| %d | %s | %s | %s | %.3f× req/s | %s× | %s | %s |\n", i + 1, cell(label[i]), rate(mo), rate(mp), med[i], spread(q, rounds, "%.3f"), allocs[i], cell(note[i])
			else
				printf "| %d | %s | %s | %s | %.3f× time | %s× | %s | %s |\n", i + 1, cell(label[i]), human(mo), human(mp), med[i], spread(q, rounds, "%.3f"), allocs[i], cell(note[i])
		} else {
			lo = o[1]; hi = o[1]
			for (r = 2; r <= rounds; r++) { if (o[r] < lo) lo = o[r]; if (o[r] > hi) hi = o[r] }
			printf "| %d | %s | %s | — | — | %s | %s | %s |\n", i + 1, cell(label[i]), human(mo), human(lo) "–" human(hi), allocs[i], cell(note[i])
		}
	}
	printf "\nratio: median over %d rounds of the ratio taken in each round between the two sides of a row.\n", rounds
	printf "\"time\": ssokit ns/op / peer ns/op, below 1 ssokit is faster; \"req/s\": ssokit requests/s / peer requests/s\n"
	printf "(HTTP throughput, loopback server, 50 keep-alive clients in process), above 1 ssokit serves more.\n"
	printf "spread: lowest and highest round (for a row without a peer, of ns/op). allocs: ssokit side, last round.\n"

	# The RSA limit of each round: bare / (bare + rsa) in ns/op, from the
	# bare side of the cold-vs-bare row and the RSA row of the same round.
	coldrow = -1
	for (k = 1; k <= m; k++) if (tgt[order[k]] ~ / rsa$/) coldrow = order[k]
	haveLimit = (coldrow >= 0 && ((rsarow, 1, "peer") in v) && ((coldrow, 1, "peer") in v))
	if (haveLimit) {
		delete lim; delete rel; delete olim; delete orel
		for (r = 1; r <= rounds; r++) {
			bare = v[coldrow, r, "peer"]; rsa = v[rsarow, r, "peer"]; own = v[rsarow, r, "ours"]
			lim[r] = bare / (bare + rsa); rel[r] = ratio[coldrow, r] / lim[r]
			olim[r] = bare / (bare + own); orel[r] = ratio[coldrow, r] / olim[r]
		}
		mlim = median(lim, rounds); mrel = median(rel, rounds)
		printf "\nRSA limit (best cold throughput relative to bare a verifier using crypto/rsa can reach) = bare / (bare + rsa_verify),\n"
		printf "per round from row %d'\''s bare side and row %d'\''s peer side, both ns/op of this run: median %.3f× (spread %s×).\n", coldrow + 1, rsarow + 1, mlim, spread(lim, rounds, "%.3f")
		printf "Cold throughput relative to the RSA limit (row %d'\''s ratio / the same round'\''s limit): median %.3f (spread %s).\n", coldrow + 1, mrel, spread(rel, rounds, "%.3f")
		printf "With ssokit'\''s own RSA check (row %d'\''s ssokit side) in place of crypto/rsa'\''s, the limit is median %.3f× bare (spread %s×),\n", rsarow + 1, median(olim, rounds), spread(olim, rounds, "%.3f")
		printf "and cold throughput relative to it median %.3f (spread %s): what ssokit'\''s work beside the RSA check costs.\n", median(orel, rounds), spread(orel, rounds, "%.3f")
		if (sigrow >= 0 && ((sigrow, 1, "peer") in v)) {
			delete sig
			for (r = 1; r <= rounds; r++) sig[r] = (v[coldrow, r, "peer"] / v[sigrow, r, "peer"]) / lim[r]
			printf "The handler that only checks a signature (row %d'\''s peer side) relative to the same limit: median %.3f (spread %s):\n", sigrow + 1, median(sig, rounds), spread(sig, rounds, "%.3f")
			printf "the limit adds the two costs, and a server with a slower handler does not quite add up.\n"
		}
	}

	header = 0
	for (k = 1; k <= m; k++) {
		i = order[k]
		if (tgt[i] == "") continue
		if (!header) { printf "\nTargets (median over the rounds; a target missed says MISS):\n"; header = 1 }
		n = split(tgt[i], t, " "); op = t[1]; want = t[2] + 0; extra = (n > 2) ? t[3] : ""
		if (!(i in med)) { printf "- row %d: %s: not measured (no peer side) — MISS\n", i + 1, tdesc[i]; continue }
		if (extra == "rsa") {
			if (!haveLimit) { printf "- row %d: %s: RSA limit not measured (select row %d too) — not checked\n", i + 1, tdesc[i], rsarow + 1; continue }
			got = mrel; shown = sprintf("%.3f× the limit (%.3f× bare, limit %.3f× bare)", mrel, med[i], mlim)
		} else {
			got = med[i]; shown = sprintf("%.3f×", med[i])
		}
		pass = (op == "ge") ? (got >= want) : (got <= want)
		tw = sprintf("%s %s×", (op == "ge") ? "≥" : "≤", t[2])
		if (extra == "allocs0") {
			tw = tw ", 0 allocs"
			shown = shown sprintf(", %s allocs (most in a round)", maxal[i] + 0)
			if (maxal[i] + 0 != 0) pass = 0
		}
		printf "- row %d: %s: measured %s, target %s — %s\n", i + 1, tdesc[i], shown, tw, pass ? "PASS" : "MISS"
	}
}' "$tmp/labels" "$results"
