#!/usr/bin/env bash
# The whole test suite: `npm test`. Installs missing Debian packages first (and says so),
# type-checks, then runs every test file with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-packages.sh
echo "trustgate tests: type-checking" >&2
npx tsc --noEmit -p .
echo "trustgate tests: checking the format (npm run format fixes it)" >&2
npm run --silent format:check
echo "trustgate tests: building the security console (test/browser drives it)" >&2
npm run --silent build:console
mapfile -t files < <(find test -name '*.test.ts' | sort)
exec node --import tsx --test --test-timeout=180000 "$@" "${files[@]}"
