#!/usr/bin/env sh
# The Node runtimes Quiesce sends to database hosts (docs/remote.md), one per Linux CPU:
#   agent-runtimes/linux-x64/node, agent-runtimes/linux-arm64/node
# the same Node version as the project's pinned one (the `node` package), from the npm registry's
# node-linux-ARCH packages; npm checks each package's integrity against the registry. Usage:
#   scripts/fetch-agent-runtimes.sh [x64] [arm64]     (default: both)
# A runtime already there at that version is kept. `npm run dist` puts them into the installers.
set -eu
cd "$(dirname "$0")/.."

version=$(node -p 'require("./node_modules/node/package.json").version')
[ "$#" -gt 0 ] || set -- x64 arm64
for arch in "$@"; do
  case "$arch" in x64|arm64) ;; *) echo "fetch-agent-runtimes: no runtime for '$arch' (x64 or arm64)" >&2; exit 2 ;; esac
  dir="agent-runtimes/linux-$arch"
  if [ -x "$dir/node" ] && [ "$(cat "$dir/VERSION" 2>/dev/null)" = "$version" ]; then continue; fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "Fetching the Linux $arch Node $version for database hosts…"
  npm pack "node-linux-$arch@$version" --pack-destination "$tmp" --silent >/dev/null
  tar -xzf "$tmp/node-linux-$arch-$version.tgz" -C "$tmp" package/bin/node
  mkdir -p "$dir"
  mv -f "$tmp/package/bin/node" "$dir/node.part"
  chmod 755 "$dir/node.part"
  mv -f "$dir/node.part" "$dir/node"
  printf '%s\n' "$version" >"$dir/VERSION"
  rm -rf "$tmp"
done
