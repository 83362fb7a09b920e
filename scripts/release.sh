#!/usr/bin/env bash
# release.sh — the files a release publishes, in dist/ (`make release VERSION=1.2.3`):
#   mlcanary_<X.Y.Z>_<os>_<arch>[.exe]  the raw binaries for the .vsix's four platforms (linux/amd64,
#                                       linux/arm64, darwin/arm64, windows/amd64), named as action.yml
#                                       looks them up in a release
#   mlcanary-<X.Y.Z>.vsix               the Azure DevOps extension, extension and task version X.Y.Z
#   SHA256SUMS                          `sha256sum` lines for all of them; its binary lines are the
#                                       action-checksums.txt of the README's "What a release publishes"
# Every binary has VERSION stamped (-X …/internal/version.Version), so `mlcanary version` prints it.
# The binaries are the ones scripts/vsix.sh builds and packs, so the .vsix ships the same bytes.
#
# Environment: VERSION (required: X.Y.Z or vX.Y.Z), DIST (default dist), QUALITY (brotli, default 11)
# and PUBLISHER as for scripts/vsix.sh; WORK (build directory, default .cache/release).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${VERSION:-}
num=${VERSION#v}
if ! [[ $num =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "release: VERSION must be X.Y.Z or vX.Y.Z (e.g. make release VERSION=1.2.3), got '$VERSION'" >&2
  exit 2
fi
DIST=${DIST:-dist}
WORK=${WORK:-.cache/release}
PLATFORMS="linux/amd64 linux/arm64 darwin/arm64 windows/amd64" # scripts/vsix.sh's
mkdir -p "$DIST"
rm -f "$DIST"/mlcanary_"$num"_* "$DIST/mlcanary-$num.vsix" "$DIST/SHA256SUMS"

VERSION=$VERSION EXT_VERSION=$num TASK_VERSION=$num WORK=$WORK OUT="$DIST/mlcanary-$num.vsix" scripts/vsix.sh

assets=()
for p in $PLATFORMS; do
  os=${p%/*} arch=${p#*/} ext=""
  [ "$os" = windows ] && ext=.exe
  asset=mlcanary_${num}_${os}_${arch}${ext}
  cp "$WORK/bin/mlcanary-$os-$arch$ext" "$DIST/$asset"
  assets+=("$asset")
done
(cd "$DIST" && sha256sum "${assets[@]}" "mlcanary-$num.vsix" > SHA256SUMS)

# The binary for this machine prints the version it was stamped with.
host="$DIST/mlcanary_${num}_$(go env GOOS)_$(go env GOARCH)$(go env GOEXE)"
if [ -x "$host" ]; then
  got=$("$host" version)
  case "$got" in
    "mlcanary $VERSION"*) echo "$host version: $got" ;;
    *) echo "release: $host version printed '$got', want 'mlcanary $VERSION'" >&2; exit 1 ;;
  esac
fi
echo "release $VERSION in $DIST:"
cat "$DIST/SHA256SUMS"
