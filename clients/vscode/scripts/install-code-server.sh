#!/usr/bin/env bash
# Install code-server 4.100.3 (VS Code 1.100) and Debian's chromium for the
# extension's end-to-end test, without any download outside the package
# registries: code-server's own postinstall fetches ripgrep from GitHub and
# fails offline, so scripts are skipped and the native modules rebuilt by hand.
#
# Idempotent: the install lives in $SC2_CACHE/code-server (default
# ~/.cache/sc2-lsp/code-server) and a stamp file marks it complete, so a second
# run costs a second. Prints the path of code-server's entry.js on stdout last.
set -euo pipefail

VERSION=4.100.3
CACHE="${SC2_CACHE:-$HOME/.cache/sc2-lsp}"
DEST="$CACHE/code-server-$VERSION"
STAMP="$DEST/.complete"
ENTRY="$DEST/node_modules/code-server/out/node/entry.js"
DEB_PKGS=(libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev pkg-config ripgrep chromium build-essential python3)

log() { printf '[install-code-server %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

missing=()
for p in "${DEB_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO=sudo
  # Other jobs on the machine may hold dpkg's lock: wait for it, don't fail.
  APT=($SUDO apt-get -o DPkg::Lock::Timeout=900 -qq)
  mkdir -p "$CACHE"
  if ! { "${APT[@]}" update && DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y \
      --no-install-recommends "${missing[@]}"; } >"$CACHE/apt.log" 2>&1; then
    tail -n 30 "$CACHE/apt.log" >&2
    exit 1
  fi
fi

if [[ -f "$STAMP" && -f "$ENTRY" ]]; then
  log "code-server $VERSION already in $DEST"
  echo "$ENTRY"
  exit 0
fi

# Start from scratch: a half-finished tree from an interrupted run is not worth
# repairing, and npm would otherwise keep its broken native builds.
rm -rf "$DEST"
mkdir -p "$DEST"
export npm_config_unsafe_perm=true npm_config_yes=true npm_config_audit=false \
  npm_config_fund=false npm_config_update_notifier=false npm_config_loglevel=warn
cd "$DEST"
echo '{"name":"sc2-code-server-cache","private":true}' > package.json

log "npm install code-server@$VERSION (scripts off: its postinstall downloads)"
npm install --ignore-scripts --no-save "code-server@$VERSION" >&2

cd "$DEST/node_modules/code-server"
log "code-server runtime dependencies"
npm install --omit=dev --ignore-scripts >&2

cd lib/vscode
log "VS Code runtime dependencies"
npm install --omit=dev --ignore-scripts >&2
mkdir -p node_modules/@vscode/ripgrep/bin
cp /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
log "rebuilding VS Code native modules (the slow part: a few minutes)"
npm rebuild node-pty @parcel/watcher @vscode/spdlog kerberos native-watchdog \
  @vscode/sqlite3 @vscode/deviceid >&2
# The server loads its modules through node_modules.asar, as in a packaged build.
ln -sfn node_modules node_modules.asar

log "built-in extensions' dependencies"
(cd extensions && npm install --omit=dev --ignore-scripts >&2)

cd "$DEST/node_modules/code-server"
log "rebuilding argon2"
npm rebuild argon2 >&2

touch "$STAMP"
log "done: $DEST"
echo "$ENTRY"
