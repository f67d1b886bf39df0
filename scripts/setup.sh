#!/usr/bin/env sh
# Sets a fresh Debian/Ubuntu machine up for Quiesce: the packages in debian-packages.txt
# (only those missing), then `npm ci`. Works as root (no sudo needed) and as a user with sudo.
set -eu
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=""
for p in $(sed 's/#.*//' scripts/debian-packages.txt); do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "Installing:$missing"
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi

# npm ci brings Node 24 into node_modules/.bin, and every `npm run …` uses it. Run by an older
# system Node, npm warns once per package about its engine (EBADENGINE): expected here, so those
# lines are left out; any other warning or error is shown.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 22 ]; then
  echo "npm ci runs on the system's Node $(node -v); Quiesce itself runs on Node 24 from node_modules/.bin."
  status_file=$(mktemp)
  { npm ci --no-audit --no-fund 2>&1; echo $? >"$status_file"; } | grep -v 'EBADENGINE' || true
  status=$(cat "$status_file"); rm -f "$status_file"
  [ "$status" -eq 0 ] || exit "$status"
else
  npm ci --no-audit --no-fund
fi

# The arm64 runtime sent to arm64 database hosts (this machine's own kind came with npm ci); the
# tests run it under qemu-user.
scripts/fetch-agent-runtimes.sh arm64
