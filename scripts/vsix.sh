#!/usr/bin/env bash
# Builds the Azure DevOps extension: cross-compiles mlcanary for the four supported agent platforms,
# packs them into one brotli stream (the launcher unpacks its own once per agent), stages the task folder and
# runs tfx-cli (from package-lock.json, `npm ci`) to write dist/mlcanary-<version>.vsix. Fails when
# the package is over the Marketplace limit or misses a file the task needs.
#
# Environment: VERSION (stamped into the binary; default: git describe), EXT_VERSION (extension
# version; default: vss-extension.json), TASK_VERSION (X.Y.Z written into the packaged task.json's
# version; default: task.json's as committed), MAX_BYTES (default 26214400, the Marketplace limit),
# QUALITY (brotli 0-11, default 11; 9 takes a quarter of the time for a package about 4 MB larger),
# PUBLISHER (Marketplace publisher id; default: vss-extension.json's), OUT (the .vsix path) and
# WORK (build directory, default .cache/vsix).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
EXT_VERSION=${EXT_VERSION:-$(node -p "require('./vss-extension.json').version")}
MAX_BYTES=${MAX_BYTES:-26214400}
PLATFORMS="linux/amd64 linux/arm64 darwin/arm64 windows/amd64"
WORK=${WORK:-.cache/vsix}
STAGE=$WORK/stage
OUT=${OUT:-dist/mlcanary-$EXT_VERSION.vsix}

rm -rf "$STAGE"
mkdir -p "$WORK/bin" "$STAGE/task/bin" "$STAGE/images" "$(dirname "$OUT")"

for p in $PLATFORMS; do
  os=${p%/*} arch=${p#*/} ext=""
  [ "$os" = windows ] && ext=.exe
  echo "building mlcanary $VERSION for $os/$arch"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
    -ldflags "-s -w -X github.com/mlcanary/mlcanary/internal/version.Version=$VERSION" \
    -o "$WORK/bin/mlcanary-$os-$arch$ext" ./cmd/mlcanary
done

# Pack the four binaries into one brotli stream (task/pack.js): the later binaries reuse what they
# share with the earlier ones, so the package is about a quarter smaller than with one archive per
# binary. Same-architecture binaries sit next to each other. QUALITY (0-11) trades time for size.
node task/pack.js "$STAGE/task/bin" "${QUALITY:-11}" "$WORK/bin/mlcanary-linux-amd64" \
  "$WORK/bin/mlcanary-windows-amd64.exe" "$WORK/bin/mlcanary-linux-arm64" "$WORK/bin/mlcanary-darwin-arm64"

cp task/task.json task/index.js "$STAGE/task/"
if [ -n "${TASK_VERSION:-}" ]; then
  # Agents download a task only when its version changed, so a release stamps its own.
  node -e '
    const fs = require("fs"), [file, v] = process.argv.slice(1);
    const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
    if (!m) { console.error(`TASK_VERSION must be X.Y.Z, got "${v}"`); process.exit(2); }
    const task = JSON.parse(fs.readFileSync(file, "utf8"));
    task.version = { Major: +m[1], Minor: +m[2], Patch: +m[3] };
    fs.writeFileSync(file, JSON.stringify(task, null, 2) + "\n");
  ' "$STAGE/task/task.json" "$TASK_VERSION"
fi
cp images/icon.png "$STAGE/task/icon.png"
cp images/icon.png images/overview.md "$STAGE/images/"
cp vss-extension.json "$STAGE/"

[ -x node_modules/.bin/tfx ] || npm ci --no-audit --no-fund
rm -f "$OUT"
node_modules/.bin/tfx extension create --root "$STAGE" --manifest-globs vss-extension.json \
  --override "{\"version\": \"$EXT_VERSION\"}" ${PUBLISHER:+--publisher "$PUBLISHER"} --output-path "$OUT" --no-prompt

# Check the package: every file the task needs, and the size limit.
python3 - "$OUT" "$MAX_BYTES" <<'PY'
import json, os, sys, zipfile
path, limit = sys.argv[1], int(sys.argv[2])
names = set(zipfile.ZipFile(path).namelist())
need = ["task/task.json", "task/index.js", "task/icon.png", "images/icon.png", "extension.vsomanifest",
        "task/bin/mlcanary.br", "task/bin/mlcanary.json"]
missing = [n for n in need if n not in names]
index = json.loads(zipfile.ZipFile(path).read("task/bin/mlcanary.json"))["binaries"]
missing += ["binary " + b for b in ("mlcanary-linux-amd64", "mlcanary-linux-arm64", "mlcanary-darwin-arm64",
                                    "mlcanary-windows-amd64.exe") if b not in index]
size = os.path.getsize(path)
print("%s: %d bytes (%.1f MiB, limit %d)" % (path, size, size / 1048576, limit))
for n in sorted(names):
    print("  " + n)
if missing:
    sys.exit("missing from the package: " + ", ".join(missing))
if size > limit:
    sys.exit("the package is %d bytes, over the limit of %d" % (size, limit))
PY

# Smoke-test the package as an agent uses it: unzip it, let the launcher unpack this machine's
# binary into a tools directory, and run it.
check=$(mktemp -d)
trap 'rm -rf "$check"' EXIT
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$OUT" "$check/x"
got=$(AGENT_TOOLSDIRECTORY="$check/tools" node "$check/x/task/index.js" version)
case "$got" in
  "mlcanary $VERSION"*) echo "launcher from the package runs: $got" ;;
  *) echo "the packaged launcher printed '$got', want 'mlcanary $VERSION'" >&2; exit 1 ;;
esac
