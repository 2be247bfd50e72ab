#!/usr/bin/env bash
# make image: the services' image (both binaries, non-root, for a read-only root filesystem),
# plus the PostgreSQL and nginx images the compose topology uses, all on a Debian bookworm base
# made here with debootstrap: no container registry is needed, only Debian's packages.
# The base is built once and kept in podman's store; later runs reuse it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$root/deploy/local/containers.conf}"
base=localhost/storages-base:bookworm

missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# The machine's configured Debian mirror (deb822 or one-line sources).
mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
[ -n "$mirror" ] || mirror="$(awk '/^deb / && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

if ! podman image exists "$base"; then
  echo "building $base from $mirror (once)"
  work="$(mktemp -d /var/tmp/storages-base.XXXXXX)"
  trap 'rm -rf "$work"' EXIT
  debootstrap --variant=minbase --include=libssl3,ca-certificates bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log"; exit 1; }
  rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/* \
    "$work"/rootfs/usr/share/doc/* "$work"/rootfs/usr/share/man/* "$work"/rootfs/usr/share/locale/*
  tar -C "$work/rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$base" >/dev/null
fi

[ -x target/release/openproject-storages ] && [ -x target/release/nextcloud-openproject-app ] ||
  cargo build --release --bins
podman build --network host -q -f deploy/Dockerfile --build-arg BINARIES=prebuilt \
  --build-arg RUNTIME_BASE="$base" -t localhost/storages:latest . >/dev/null
podman build --network host -q -f deploy/local/postgres.Containerfile --build-arg BASE="$base" \
  -t localhost/storages-postgres:15 deploy/local >/dev/null
podman build --network host -q -f deploy/local/nginx.Containerfile --build-arg BASE="$base" \
  -t localhost/storages-nginx:latest deploy/local >/dev/null

size() { podman image inspect --format '{{.Size}}' "$1"; }
mib() { echo "$(( $1 / 1048576 )) MiB"; }
echo "localhost/storages:latest: $(mib "$(size localhost/storages:latest)") in all, $(mib $(( $(size localhost/storages:latest) - $(size "$base") ))) on top of the base ($(mib "$(size "$base")"))"
