#!/usr/bin/env bash
# golden.sh — rewrite every golden file from the current output (`make golden`). The -update flag is
# defined by internal/golden, so only test binaries that import it accept it: `go test ./... -update`
# fails in the first package that does not. This finds the packages whose tests import
# internal/golden and, in each, the Test functions that call golden.Assert, and runs just those with
# -update (the whole package when a helper rather than a Test function calls it). Review the diff
# (`git diff '*/testdata/*'`) before committing. KUBEBUILDER_ASSETS must point at the test API server
# for golden tests that run a stage against it (the Makefile sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
golden=github.com/mlcanary/mlcanary/internal/golden
${GO:-go} list -f '{{.ImportPath}} {{.Dir}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./... |
while read -r pkg dir imports; do
	case " $imports " in *" $golden "*) ;; *) continue ;; esac
	# The enclosing top-level function of each golden.Assert call; "*" for one outside a Test function.
	tests=$(awk '/^func / { name = "*" } /^func Test[A-Za-z0-9_]*\(/ { name = $2; sub(/\(.*/, "", name) }
		/golden\.Assert\(/ { print name }' "$dir"/*_test.go | sort -u)
	if [ -z "$tests" ]; then continue; fi
	if grep -qx '\*' <<<"$tests"; then run=.; else run="^($(paste -sd'|' <<<"$tests"))\$"; fi
	echo "$pkg: -run '$run' -update"
	${GO:-go} test -count=1 "$pkg" -run "$run" -update
done
