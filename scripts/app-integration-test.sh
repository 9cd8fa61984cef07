#!/usr/bin/env bash
# Runs the app's integration tests (build tag "integration") against real
# servers: starts PostgreSQL primary + streaming replica and Redis with
# scripts/app-services.sh (installing them if missing), stops them on exit,
# and exits with go test's status. Extra arguments go to go test
# (e.g. -run TestReadYourWrites -v).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

services=scripts/app-services.sh
# Start from empty data directories so every run sees the same state.
bash "$services" clean
trap 'bash "$services" stop' EXIT
bash "$services" start
eval "$(bash "$services" env)"

race=()
if [ "${APP_TEST_RACE:-1}" = 1 ]; then race=(-race); fi
set +e
# -p 1: the tests stop and restart the shared replica and Redis, so packages
# must not run at the same time.
go test -tags integration -count=1 -p 1 "${race[@]}" -timeout 20m "$@" ./app/...
status=$?
set -e
exit $status
