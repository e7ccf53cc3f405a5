#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this script).
# It installs or starts what the tests need, checks formatting and vet, runs
# each fuzz target briefly, then the full race-enabled suite, whose summary
# closes the output.
#   scripts/test.sh                 # FUZZTIME=5s per fuzz target
#   FUZZTIME=5m scripts/test.sh     # longer fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-5s}

command -v go >/dev/null || { echo "test.sh: Go 1.26 is required (https://go.dev/dl)" >&2; exit 1; }

# Outside services the later suites use; exported so tests find them.
export SSOKIT_TEST_POSTGRES=${SSOKIT_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
export SSOKIT_TEST_REDIS=${SSOKIT_TEST_REDIS:-127.0.0.1:6379}

echo "== go mod download"
go mod download

echo "== npm ci (interop/node: openid-client, jose)"
if command -v npm >/dev/null; then
	npm ci --prefix interop/node --no-audit --no-fund --loglevel=error
elif [ -n "${CI:-}" ]; then
	echo "test.sh: npm is required in CI (install Node.js 20 with npm)" >&2
	exit 1
else
	echo "npm not found: the Node.js interoperability tests will skip (install Node.js 20 with npm)"
fi

echo "== Chromium (the browser test)"
if [ -n "${SSOKIT_CHROMIUM:-}" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null; then
	echo "found"
elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
	apt-get update && apt-get install -y chromium
elif command -v apt-get >/dev/null && command -v sudo >/dev/null; then
	sudo apt-get update && sudo apt-get install -y chromium
elif [ -n "${CI:-}" ]; then
	echo "test.sh: Chromium is required in CI (apt-get update && apt-get install -y chromium)" >&2
	exit 1
else
	echo "Chromium not found: the browser test will skip (apt-get install -y chromium)"
fi

echo "== gofmt"
gofiles=$(find . -name '*.go' -not -path './node_modules/*' -not -path './.git/*')
unformatted=$(gofmt -l $gofiles)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

echo "== go vet"
go vet ./...

echo "== fuzz (${fuzztime} each)"
# Every FuzzXxx in the module, run on its own package.
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		echo "-- $pkg $target"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/dev/null || {
			echo "fuzz target $target in $pkg failed; the failing input is under testdata/fuzz" >&2
			go test -run "^${target}\$" "$pkg" >&2 || true
			exit 1
		}
	done
done

echo "== examples/chirouter (its own module: the chi dependency stays out of ssokit)"
(cd examples/chirouter && go vet ./... && go test -race -count=1 ./...)

echo "== go test -race ./...  (browser screenshots under test-artifacts/)"
mkdir -p test-artifacts
go test -race -count=1 ./... -artifacts -outputdir "$PWD/test-artifacts"
