#!/usr/bin/env bash
# Builds the camfw Debian package: .build/deb/camfw_<version>-<revision>_amd64.deb. Root is not needed.
#
# The version comes from the project (<Version> in Directory.Build.props, which `camfw version` prints too). The
# program is published for linux-x64 with NativeAOT (no .NET on the box, no JIT; see benchmarks/README.md,
# "Packaging", for the measurements behind the choice), then debhelper lays it out the Debian way from image/debian:
# /usr/lib/camfw, /usr/bin/camfw, the unit, the conffiles /etc/camfw/camfw.json and /etc/camfw/policies/*.yaml
# (the example site), maintainer scripts for the camfw user, enable/restart and purge.
#
# usage: image/build-deb.sh [--revision N] [--flavor r2r|jit|aot] [--out DIR] [--reuse-publish]
#   --revision N       Debian revision (default 1); a rebuilt package of the same program gets a higher one
#   --flavor F         aot: NativeAOT (default; the unit gets MemoryDenyWriteExecute=yes); r2r: self-contained,
#                      ReadyToRun-compiled; jit: self-contained, plain IL (both for comparison, see benchmarks/README.md)
#   --out DIR          where the .deb goes (default .build/deb)
#   --reuse-publish    package the last publish of this flavor again instead of publishing anew
#   --compression C    xz (default, dpkg's), gzip (level 1: the package tests, where the minute xz takes buys nothing)
# Prints the path of the .deb on stdout.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
revision=1
flavor=aot
out="$repo/.build/deb"
reuse=0
compression=xz
while [ $# -gt 0 ]; do
  case "$1" in
    --revision) revision="$2"; shift 2 ;;
    --flavor) flavor="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --reuse-publish) reuse=1; shift ;;
    --compression) compression="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "build-deb.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$compression" in
  xz) export CAMFW_DEB_COMPRESSION="" ;;
  gzip) export CAMFW_DEB_COMPRESSION="-Zgzip -z1" ;;
  *) echo "build-deb.sh: --compression must be xz or gzip" >&2; exit 2 ;;
esac
case "$revision" in ''|*[!0-9]*) echo "build-deb.sh: --revision must be a number" >&2; exit 2 ;; esac

say() { echo "build-deb.sh: $*" >&2; }
for tool in dotnet dpkg-buildpackage dh; do
  command -v "$tool" >/dev/null || { say "$tool is missing (scripts/install-deps.sh installs dpkg-dev and debhelper)"; exit 1; }
done

project="$repo/src/Appliance.Host/Appliance.Host.csproj"
# Read straight from the file that defines it (asking MSBuild costs a restore and an evaluation).
upstream="$(sed -n 's:^ *<Version>\(.*\)</Version>.*:\1:p' "$repo/Directory.Build.props" | head -1)"
case "$upstream" in ''|*[!0-9A-Za-z.+~]*) say "could not read the version from the project (got '$upstream')"; exit 1 ;; esac
version="$upstream-$revision"

work="$repo/.build/deb-work"
publish="$work/publish-$flavor"
case "$flavor" in
  r2r) publish_args=(--self-contained -p:PublishReadyToRun=true) ;;
  jit) publish_args=(--self-contained -p:PublishReadyToRun=false) ;;
  aot) publish_args=(-p:PublishAot=true) ;;
  *) say "unknown flavor '$flavor' (r2r, jit, aot)"; exit 2 ;;
esac

# One build at a time per checkout (the work directory is shared).
mkdir -p "$work"
exec 9>"$work/.lock"
flock 9

if [ "$reuse" = 0 ] || [ ! -x "$publish/camfw" ]; then
  say "publishing camfw $upstream ($flavor, linux-x64) ..."
  rm -rf "$publish"
  dotnet publish "$project" -c Release -r linux-x64 "${publish_args[@]}" -o "$publish" \
    -nologo -v quiet -clp:"ErrorsOnly;NoSummary" >&2
  # Symbols and docs are for developers, not for the box. The LTTng trace provider links liblttng-ust, which no box
  # has (the runtime loads it only when present, for tracing we do not use).
  find "$publish" \( -name '*.pdb' -o -name '*.dbg' -o -name '*.xml' -o -name 'libcoreclrtraceptprovider.so' \) -delete
fi

# A debhelper source tree: image/debian plus what it installs, all generated from the repository.
src="$work/src"
rm -rf "$src"
mkdir -p "$src"
cp -a "$repo/image/debian" "$src/debian"
cp "$repo/image/camfw.service" "$src/debian/camfw.service"
if [ "$flavor" = aot ]; then
  # NativeAOT compiles everything ahead of time: no JIT, so no page ever needs to be writable and executable.
  sed -i -e '/^# package flavours). image\/build-deb.sh turns it on/d' -e 's|^# Not MemoryDenyWriteExecute:.*|# NativeAOT build (no JIT): no page is ever writable and executable.\nMemoryDenyWriteExecute=yes|' "$src/debian/camfw.service"
  grep -q '^MemoryDenyWriteExecute=yes$' "$src/debian/camfw.service" || { say "could not set MemoryDenyWriteExecute in the unit"; exit 1; }
fi
cp "$repo/image/camfw.json" "$src/camfw.json"
cp "$repo/image/xdp-offload.conf" "$src/xdp-offload.conf"
cp "$repo/image/README.md" "$src/README.md"
cp "$repo/image/camfw.1" "$src/camfw.1"
ln -s "$publish" "$src/publish"
# The example site: its YAML files only (README.md and the like are documentation, not policy).
mkdir -p "$src/policies"
(cd "$repo/policies" && find . -type f \( -name '*.yaml' -o -name '*.yml' \) -exec cp --parents {} "$src/policies/" \;)

# The changelog carries the version; its date is the last commit's, so a rebuild of one commit is reproducible.
when="$(git -C "$repo" log -1 --format=%cD 2>/dev/null || date -R)"
commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
cat > "$src/debian/changelog" <<EOF
camfw ($version) unstable; urgency=medium

  * Built from commit $commit ($flavor publish).

 -- camfw maintainers <camfw@example.org>  $when
EOF

say "packaging camfw $version ..."
(
  cd "$src"
  export SOURCE_DATE_EPOCH
  SOURCE_DATE_EPOCH="$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)"
  dpkg-buildpackage -b -us -uc -d --no-check-builddeps >"$work/dpkg-buildpackage.log" 2>&1 \
    || { tail -40 "$work/dpkg-buildpackage.log" >&2; exit 1; }
)
mkdir -p "$out"
deb="$out/camfw_${version}_amd64.deb"
mv "$work/camfw_${version}_amd64.deb" "$deb"
rm -f "$work"/camfw_"${version}"_amd64.{buildinfo,changes}
say "wrote $deb ($(du -h "$deb" | cut -f1))"
echo "$deb"
