#!/usr/bin/env bash
# Installs what building and testing need and a fresh Debian machine may lack:
# a C compiler (bundled SQLite and libpq), OpenSSL headers (libpq's TLS), the psql client, and
# the real WebDAV clients the system tests drive (the desktop client's nextcloudcmd, rclone, the
# compliance suite litmus), the browser the UI tests drive (chromium, chromedriver) and axe-core
# for their accessibility checks, and podman (with runc, debootstrap and podman-compose) for the
# deployment test.
set -euo pipefail
missing=()
command -v cc >/dev/null || missing+=(gcc)
command -v pkg-config >/dev/null || missing+=(pkg-config)
dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
command -v psql >/dev/null || missing+=(postgresql-client)
command -v nextcloudcmd >/dev/null || missing+=(nextcloud-desktop-cmd)
command -v rclone >/dev/null || missing+=(rclone)
command -v litmus >/dev/null || missing+=(litmus)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v npm >/dev/null || missing+=(npm)
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
# podman-compose (PyPI) brings up deploy/compose.yaml in the deployment test.
command -v podman-compose >/dev/null || python3 -m pip install --quiet --disable-pip-version-check podman-compose
# axe-core, pinned in tests/browser/package-lock.json.
root="$(cd "$(dirname "$0")/.." && pwd)"
[ -f "$root/tests/browser/node_modules/axe-core/axe.min.js" ] ||
  npm ci --prefix "$root/tests/browser" --no-audit --no-fund --loglevel=error
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
