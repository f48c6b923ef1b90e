#!/usr/bin/env bash
# Debian packages the test suite needs: real editors driven headless against
# the server (Neovim, Emacs + eglot, Vim + ALE), tmux for screen captures and
# bubblewrap to confine the pass@1 sandbox.
# Installs only what is missing, so a second run costs nothing.
set -euo pipefail
PKGS=(neovim tmux emacs-nox elpa-eglot vim vim-ale bubblewrap)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
SUDO=""; [[ $(id -u) == 0 ]] || SUDO=sudo
echo "[system-deps] apt-get install ${missing[*]}" >&2
$SUDO apt-get -o DPkg::Lock::Timeout=900 -qq update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 -qq install -y "${missing[@]}" >/dev/null
