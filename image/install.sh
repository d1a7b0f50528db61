#!/usr/bin/env bash
# Installs camfw on a Debian box:
#   - runtime packages (libpcap, ethtool, iproute2...) through scripts/install-deps.sh;
#   - the host, published (Release, framework-dependent) to /opt/camfw;
#   - the `camfw` system user, /etc/camfw (config, policy directory, API token 0600), /var/lib/camfw;
#   - the systemd unit, enabled (and started with --start).
# Re-running upgrades /opt/camfw and the unit and never overwrites the config, the policies or the token.
#
# Usage: sudo image/install.sh [--camera-if IF --uplink-if IF] [--start] [--root DIR]
#   --camera-if/--uplink-if  interfaces written into a new /etc/camfw/camfw.json
#   --start                  start (or restart) the service now
#   --root DIR               stage everything under DIR (no user, no systemctl): for packaging and tests
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root=""
camera_if=""
uplink_if=""
start=0
while [ $# -gt 0 ]; do
  case "$1" in
    --camera-if) camera_if="$2"; shift 2 ;;
    --uplink-if) uplink_if="$2"; shift 2 ;;
    --start) start=1; shift ;;
    --root) root="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

prefix="$root/opt/camfw"
etc="$root/etc/camfw"
state="$root/var/lib/camfw"
unitdir="$root/etc/systemd/system"

say() { echo "install.sh: $*" >&2; }

if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
  say "run as root (sudo $0)"; exit 1
fi

if [ -z "$root" ]; then
  "$repo/scripts/install-deps.sh"
fi

command -v dotnet >/dev/null || { say "the .NET SDK is needed to publish camfw (dotnet not found)"; exit 1; }
dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"

# 1. Publish into a staging directory, then swap it into place, so a failed build leaves the old install running.
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
say "publishing camfw (Release) ..."
dotnet publish "$repo/src/Appliance.Host/Appliance.Host.csproj" -c Release -o "$stage/camfw" -nologo -v quiet -clp:"ErrorsOnly;NoSummary" >&2
cp "$repo/image/README.md" "$stage/camfw/README.md"
mkdir -p "$(dirname "$prefix")"
rm -rf "$prefix.new"
cp -a "$stage/camfw" "$prefix.new"
chmod -R u=rwX,go=rX "$prefix.new"
[ -z "$root" ] && chown -R root:root "$prefix.new"
if [ -d "$prefix" ]; then rm -rf "$prefix.old"; mv "$prefix" "$prefix.old"; fi
mv "$prefix.new" "$prefix"
rm -rf "$prefix.old"
mkdir -p "$root/usr/local/bin"
ln -sfn /opt/camfw/camfw "$root/usr/local/bin/camfw"
say "installed $prefix/camfw (and /usr/local/bin/camfw)"

# 2. The service user: no login, no home of its own.
owner="root"
if [ -z "$root" ]; then
  if ! getent passwd camfw >/dev/null; then
    useradd --system --home-dir /var/lib/camfw --no-create-home --shell /usr/sbin/nologin --user-group camfw
    say "created system user camfw"
  fi
  owner="camfw"
fi

# 3. Configuration: root owns it, the service reads it; the service owns only the policy directory (API applies are
#    written there) and the token file.
install -d -m 0750 "$etc"
[ -z "$root" ] && chown root:"$owner" "$etc"
if [ ! -f "$etc/camfw.json" ]; then
  sed -e "s/\"eth1\"/\"${camera_if:-eth1}\"/" -e "s/\"eth2\"/\"${uplink_if:-eth2}\"/" "$repo/image/camfw.json" > "$etc/camfw.json"
  chmod 0640 "$etc/camfw.json"
  [ -z "$root" ] && chown root:"$owner" "$etc/camfw.json"
  say "wrote $etc/camfw.json (camera side ${camera_if:-eth1}, uplink side ${uplink_if:-eth2}); edit Bridge:Pairs before starting"
else
  say "kept existing $etc/camfw.json"
fi

install -d -m 0750 "$etc/policies"
if [ -z "$(find "$etc/policies" -name '*.yaml' -print -quit)" ]; then
  # The example site: deny by default, so an unedited install lets nothing but its example cameras' rules through.
  cp -r "$repo/policies/." "$etc/policies/"
  find "$etc/policies" -type f ! -name '*.yaml' -delete
  say "copied the example policy to $etc/policies; replace it with your site's cameras"
fi
[ -z "$root" ] && chown -R "$owner:$owner" "$etc/policies"

if [ ! -f "$etc/api-token" ]; then
  (umask 077 && head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' > "$etc/api-token")
  say "generated the management API token in $etc/api-token (mode 0600)"
fi
chmod 0600 "$etc/api-token"
[ -z "$root" ] && chown "$owner:$owner" "$etc/api-token"

install -d -m 0750 "$state"
[ -z "$root" ] && chown "$owner:$owner" "$state"

# 4. The unit, plus a drop-in telling the apphost where the .NET runtime lives.
install -d -m 0755 "$unitdir" "$unitdir/camfw.service.d"
install -m 0644 "$repo/image/camfw.service" "$unitdir/camfw.service"
{
  echo "[Service]"
  echo "Environment=DOTNET_ROOT=$dotnet_root"
  case "$dotnet_root" in
    /root/*|/home/*) echo "ProtectHome=read-only" ;;
  esac
} > "$unitdir/camfw.service.d/dotnet.conf"
chmod 0644 "$unitdir/camfw.service.d/dotnet.conf"

if [ -n "$root" ]; then
  say "staged under $root (no user created, systemd not touched)"
  exit 0
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  systemctl daemon-reload
  systemctl enable camfw.service >&2
  if [ "$start" = 1 ]; then
    systemctl restart camfw.service
    say "camfw started: systemctl status camfw; camfw status"
  else
    say "camfw enabled; start it with: systemctl start camfw"
  fi
else
  say "systemd is not running here: the unit is installed but not enabled; run $prefix/camfw run --config $etc/camfw.json"
fi
