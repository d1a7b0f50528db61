#!/usr/bin/env bash
# The test command: installs what the tests need, builds in Release, runs every test project and prints one
# summary line ("Total: N passed, N failed, N skipped"). Exits non-zero on any failure.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
# With the browser: the web console's tests run in Debian's chromium.
CAMFW_WITH_BROWSER=1 scripts/install-deps.sh || exit 1

results="$root/.build/test-results"
rm -rf "$results"
mkdir -p "$results"

dotnet build Appliance.sln -c Release -nologo -v quiet -clp:ErrorsOnly || { echo "Total: 0 passed, 1 failed (build)"; exit 1; }

# The package tests (tests/Appliance.Package.Tests, root only) install image/build-deb.sh's package in a booted Debian
# container. Publish it and debootstrap the cached root here, where dotnet test's hang limit does not apply; the
# tests then only package that publish again (twice: an upgrade needs two builds).
if [ "$(id -u)" -eq 0 ] && [ "${CAMFW_SKIP_ROOT_TESTS:-0}" != "1" ]; then
  scripts/debian-root.sh >/dev/null && image/build-deb.sh --compression gzip --out "$root/.build/deb-test" >/dev/null \
    || { echo "Total: 0 passed, 1 failed (package build)"; exit 1; }
  export CAMFW_PACKAGE_TESTS_REUSE_PUBLISH=1
fi

dotnet test Appliance.sln -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" \
  --blame-hang-timeout 5m "$@"
status=$?

passed=0; failed=0; skipped=0
for f in "$results"/*.trx; do
  [ -f "$f" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  p=$(get passed); fl=$(get failed); t=$(get total); e=$(get executed)
  passed=$((passed + ${p:-0})); failed=$((failed + ${fl:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
done
echo "Total: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
