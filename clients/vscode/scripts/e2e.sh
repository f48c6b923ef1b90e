#!/usr/bin/env bash
# End-to-end test of the extension in real VS Code (code-server + Chromium):
# installs code-server if the cache lacks it, builds the .vsix, runs e2e/.
# Needs `npm ci` done in clients/vscode and the sc2-lsp venv ($SC2_LSP,
# default <repo>/.venv/bin/sc2-lsp). Artifacts: <repo>/tests/artifacts/vscode/.
set -euo pipefail
cd "$(dirname "$0")/.."

CODE_SERVER_ENTRY="$(bash scripts/install-code-server.sh)"
export CODE_SERVER_ENTRY
echo "[e2e] packaging the extension" >&2
npm run --silent package >/dev/null
echo "[e2e] running e2e/ in code-server" >&2
npx tsc -p .
exec node --test --test-reporter=spec out/e2e/
