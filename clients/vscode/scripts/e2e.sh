#!/usr/bin/env bash
# End-to-end test of the extension in real VS Code (code-server + Chromium):
# installs code-server if the cache lacks it, builds the .vsix, runs e2e/.
# Needs `npm ci` done in clients/vscode and the sc2-lsp venv ($SC2_LSP,
# default <repo>/.venv/bin/sc2-lsp). Artifacts: <repo>/tests/artifacts/vscode/.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ -d node_modules/playwright-core ]] || { echo "[e2e] run 'npm ci --ignore-scripts' in clients/vscode first" >&2; exit 1; }
CODE_SERVER_ENTRY="$(bash scripts/install-code-server.sh)"
export CODE_SERVER_ENTRY
echo "[e2e] type check, bundle, package the .vsix (also compiles e2e/)" >&2
npm run --silent package >/dev/null
echo "[e2e] running out/e2e/ in code-server" >&2
exec node --test --test-reporter=spec out/e2e/
