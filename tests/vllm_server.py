"""A real vLLM server (CPU build) serving the embedded model, for the remote-engine tests.

Its venv is made by scripts/vllm-venv.sh (`make test` runs it). Without it the tests
skip, with the reason, unless SC2_REQUIRE_VLLM=1 (as `make test` sets): then they fail,
so CI never skips them silently.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EMBEDDED = REPO / "model" / "sc2-mini"
VENV = Path(os.environ.get("SC2_VLLM_VENV",
                           Path.home() / ".cache" / "sc2-lsp" / "vllm-0.32.0"))
START_TIMEOUT_S = 600  # 33–67 s on an idle 2-core machine; much more when it is busy


def vllm_python() -> Path:
    """The vLLM venv's python, or skip (fail when SC2_REQUIRE_VLLM=1)."""
    if (VENV / ".installed").exists():
        return VENV / "bin" / "python"
    reason = f"no vLLM venv at {VENV} (make it with scripts/vllm-venv.sh)"
    if os.environ.get("SC2_REQUIRE_VLLM") == "1":
        pytest.fail(reason + "; SC2_REQUIRE_VLLM=1 forbids skipping")
    pytest.skip(reason)


class VllmServer:
    """`python -m vllm.entrypoints.openai.api_server` in its own process group."""

    def __init__(self, python: Path, log_path: Path):
        self.python, self.log_path = python, log_path
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.model = str(EMBEDDED)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [str(self.python), "-m", "vllm.entrypoints.openai.api_server",
               "--model", self.model, "--host", "127.0.0.1", "--port", str(self.port),
               "--dtype", "float32", "--max-model-len", "1024", "--enforce-eager",
               "--block-size", "32", "--kv-cache-memory-bytes", str(256 * 2**20),
               "--enable-prefix-caching", "--enable-prompt-tokens-details"]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1"}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self._wait_ready()

    def stop(self) -> None:
        """SIGTERM to the whole group (the API server and its engine core), then SIGKILL."""
        if self.process is None:
            return
        for sig, wait_s in ((signal.SIGTERM, 60), (signal.SIGKILL, 30)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(wait_s)
                break
            except subprocess.TimeoutExpired:
                continue
        self.process = None

    def metric(self, name: str) -> float:
        """A counter from /metrics, summed over its label sets."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=30) as r:
            text = r.read().decode()
        values = re.findall(rf"^{re.escape(name)}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.MULTILINE)
        return sum(float(v) for v in values)

    def completion(self, body: dict) -> dict:
        request = urllib.request.Request(f"{self.url}/completions",
                                         data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as r:
            return json.loads(r.read())

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"vLLM exited ({self.process.returncode}); "
                                   f"see {self.log_path}:\n{_tail(self.log_path)}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"vLLM was not ready in {START_TIMEOUT_S} s:\n{_tail(self.log_path)}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
