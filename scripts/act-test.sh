#!/usr/bin/env bash
# Runs the GitHub Action end to end under nektos/act (host mode, no Docker): builds act v0.2.89 from
# tools/act into .cache/bin/act when missing, then runs TestIntegrationActWorkflow with
# MLCANARY_REQUIRE_ACT=1 so a missing act fails instead of skipping. Needs kube-apiserver and etcd
# in .cache/bin (make tools) for internal/testenv. Extra arguments go to `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .cache/bin/act ]; then
  (cd tools/act && go build -trimpath -ldflags "-s -w" -o ../../.cache/bin/act github.com/nektos/act)
fi
MLCANARY_REQUIRE_ACT=1 exec go test ./internal/github/ -run TestIntegrationActWorkflow -count=1 "$@"
