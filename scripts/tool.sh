#!/usr/bin/env bash
# tool.sh NAME PACKAGE — build PACKAGE from the pinned module in tools/NAME (Go module proxy) into a
# per-user cache keyed by tools/NAME/go.sum alone (and tools/NAME/buildtags, when the module has
# one: its build tags, e.g. remove_all_sd), so adding or bumping one tool never rebuilds the others,
# and link it as .cache/tools/BIN, BIN being PACKAGE's last element (NAME for most tools; one module
# may build several, e.g. tools/prometheus builds prometheus and promtool). Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1 pkg=$2
binname=$(basename "$pkg")
tags=
keyfiles=("tools/$name/go.sum")
if [ -f "tools/$name/buildtags" ]; then
	tags=$(tr -d '\n' <"tools/$name/buildtags")
	keyfiles+=("tools/$name/buildtags")
fi
key=$(cat "${keyfiles[@]}" | sha256sum | cut -c1-12)
dir=${XDG_CACHE_HOME:-$HOME/.cache}/mlcanary/$name-$key
bin=$dir/$binname
if [ ! -x "$bin" ]; then
	mkdir -p "$dir"
	(cd "tools/$name" && CGO_ENABLED=0 ${GO:-go} build -trimpath -tags "$tags" -ldflags "-s -w" -o "$bin.tmp" "$pkg") >&2
	mv "$bin.tmp" "$bin"
fi
mkdir -p .cache/tools
ln -sfn "$bin" ".cache/tools/$binname"
echo "$bin"
