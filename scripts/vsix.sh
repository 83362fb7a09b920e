#!/usr/bin/env bash
# Builds the Azure DevOps extension: cross-compiles mlcanary for the four supported agent platforms,
# brotli-compresses each binary (the launcher unpacks it once per agent), stages the task folder and
# runs tfx-cli (from package-lock.json, `npm ci`) to write dist/mlcanary-<version>.vsix. Fails when
# the package is over the Marketplace limit or misses a file the task needs.
#
# Environment: VERSION (stamped into the binary; default: git describe), EXT_VERSION (extension
# version; default: vss-extension.json), MAX_BYTES (default 26214400, the Marketplace limit).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
EXT_VERSION=${EXT_VERSION:-$(node -p "require('./vss-extension.json').version")}
MAX_BYTES=${MAX_BYTES:-26214400}
PLATFORMS="linux/amd64 linux/arm64 darwin/arm64 windows/amd64"
WORK=.cache/vsix
STAGE=$WORK/stage
OUT=dist/mlcanary-$EXT_VERSION.vsix

rm -rf "$STAGE"
mkdir -p "$WORK/bin" "$STAGE/task/bin" "$STAGE/images" dist

for p in $PLATFORMS; do
  os=${p%/*} arch=${p#*/} ext=""
  [ "$os" = windows ] && ext=.exe
  echo "building mlcanary $VERSION for $os/$arch"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
    -ldflags "-s -w -X github.com/mlcanary/mlcanary/internal/version.Version=$VERSION" \
    -o "$WORK/bin/mlcanary-$os-$arch$ext" ./cmd/mlcanary
done

# Brotli at quality 11 with a 16 MiB window shrinks a Go binary to about 30 %; zip's deflate would
# leave about 40 %. Two at a time: one per core.
compress() {
  node -e '
    const fs = require("fs"), zlib = require("zlib");
    const [src, dst] = process.argv.slice(1);
    const data = fs.readFileSync(src);
    fs.writeFileSync(dst, zlib.brotliCompressSync(data, { params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length } }));' "$1" "$2"
}
pids=()
for f in "$WORK"/bin/mlcanary-*; do
  compress "$f" "$STAGE/task/bin/$(basename "$f").br" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid"; done

cp task/task.json task/index.js "$STAGE/task/"
cp images/icon.png "$STAGE/task/icon.png"
cp images/icon.png images/overview.md "$STAGE/images/"
cp vss-extension.json "$STAGE/"

[ -x node_modules/.bin/tfx ] || npm ci --no-audit --no-fund
rm -f "$OUT"
node_modules/.bin/tfx extension create --root "$STAGE" --manifest-globs vss-extension.json \
  --override "{\"version\": \"$EXT_VERSION\"}" --output-path "$OUT" --no-prompt

# Check the package: every file the task needs, and the size limit.
python3 - "$OUT" "$MAX_BYTES" <<'PY'
import os, sys, zipfile
path, limit = sys.argv[1], int(sys.argv[2])
names = set(zipfile.ZipFile(path).namelist())
need = ["task/task.json", "task/index.js", "task/icon.png", "images/icon.png", "extension.vsomanifest"] + [
    "task/bin/mlcanary-%s.br" % p for p in ("linux-amd64", "linux-arm64", "darwin-arm64", "windows-amd64.exe")]
missing = [n for n in need if n not in names]
size = os.path.getsize(path)
print("%s: %d bytes (%.1f MiB, limit %d)" % (path, size, size / 1048576, limit))
for n in sorted(names):
    print("  " + n)
if missing:
    sys.exit("missing from the package: " + ", ".join(missing))
if size > limit:
    sys.exit("the package is %d bytes, over the limit of %d" % (size, limit))
PY
