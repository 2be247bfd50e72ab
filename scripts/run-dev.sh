#!/usr/bin/env bash
# Starts both services on SQLite under ./data with an admin on each side, prints where to go
# and how to sign in, and stops both on Ctrl-C. Credentials are generated on the first run and
# kept in data/dev-credentials (mode 0600) so every later run prints the same ones.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p data
creds=data/dev-credentials
if [ ! -f "$creds" ]; then
  umask 077
  {
    echo "OPS_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)"
    echo "NCOA_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)"
  } > "$creds"
fi
# shellcheck disable=SC1090
source "$creds"

OPS_PORT="${OPS_PORT:-8080}"
NCOA_PORT="${NCOA_PORT:-8081}"
bin=./target/debug

export OPS_LISTEN="127.0.0.1:$OPS_PORT" OPS_PUBLIC_URL="http://localhost:$OPS_PORT"
export OPS_DATABASE_URL="sqlite://data/openproject.db" OPS_ADMIN_USERNAME=admin OPS_ADMIN_PASSWORD
export NCOA_LISTEN="127.0.0.1:$NCOA_PORT" NCOA_PUBLIC_URL="http://localhost:$NCOA_PORT"
export NCOA_DATABASE_URL="sqlite://data/nextcloud.db" NCOA_ADMIN_USERNAME=admin NCOA_ADMIN_PASSWORD
# Both services run on loopback here, so each must be allowed to reach local servers.
export NCOA_ALLOW_LOCAL_REMOTE_SERVERS=true OPS_ALLOW_LOCAL_REMOTE_SERVERS=true

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$bin/openproject-storages" serve & pids+=($!)
"$bin/nextcloud-openproject-app" serve & pids+=($!)

wait_ready() {
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$2 did not start; see the log above" >&2
  return 1
}
wait_ready "$OPS_PUBLIC_URL/api/v3/configuration" openproject-storages
wait_ready "$NCOA_PUBLIC_URL/status.php" nextcloud-openproject-app

cat <<MSG

  OpenProject side   $OPS_PUBLIC_URL        sign in as admin / $OPS_ADMIN_PASSWORD
  Nextcloud side     $NCOA_PUBLIC_URL        sign in as admin / $NCOA_ADMIN_PASSWORD

  Set up the integration in the browser, with a tab for each side:
    1. Nextcloud: user menu → Administration settings → OpenProject integration → OpenProject host
    2. OpenProject: Administration → File storages → + Storage (Host URL: $NCOA_PUBLIC_URL)
    3. Nextcloud: paste OpenProject's OAuth values, copy Nextcloud's
    4. OpenProject: paste Nextcloud's OAuth values
    5. OpenProject: a project → Project settings → Modules → File storages

  API, e.g.:  curl -u admin:$OPS_ADMIN_PASSWORD $OPS_PUBLIC_URL/api/v3
              curl -u admin:$NCOA_ADMIN_PASSWORD '$NCOA_PUBLIC_URL/ocs/v2.php/cloud/user?format=json'
  Data lives in ./data (delete it to start over). Press Ctrl-C to stop both.

MSG
wait -n "${pids[@]}"
