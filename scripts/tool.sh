#!/usr/bin/env bash
# tool.sh NAME PACKAGE — build PACKAGE from the pinned module in tools/NAME (Go module proxy) into a
# per-user cache keyed by tools/NAME/go.sum alone, so adding or bumping one tool never rebuilds the
# others, and link it as .cache/bin/NAME. Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1 pkg=$2
key=$(sha256sum "tools/$name/go.sum" | cut -c1-12)
dir=${XDG_CACHE_HOME:-$HOME/.cache}/mlcanary/$name-$key
bin=$dir/$name
if [ ! -x "$bin" ]; then
	mkdir -p "$dir"
	(cd "tools/$name" && CGO_ENABLED=0 ${GO:-go} build -trimpath -ldflags "-s -w" -o "$bin.tmp" "$pkg") >&2
	mv "$bin.tmp" "$bin"
fi
mkdir -p .cache/tools
ln -sfn "$bin" ".cache/tools/$name"
echo "$bin"
