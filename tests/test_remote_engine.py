"""The remote engine against a real vLLM server (CPU build, the embedded model in fp32),
started once for this module: same answers as the local engine, streams closed on cancel,
the server's prefix cache reported, and an endpoint that dies and comes back."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sc2_lsp.bench.lsp_client import EditorSession, server_command
from sc2_lsp.completion import CompletionPipeline
from sc2_lsp.config import Settings
from sc2_lsp.documents import DocumentStore
from sc2_lsp.engine import GenerationRequest, TextStop, open_engine

from .vllm_server import EMBEDDED, VllmServer, vllm_python

# Starting vLLM (in the first test's setup) takes minutes on a busy 2-core machine.
pytestmark = pytest.mark.timeout(1800)
LOCAL = Settings(model=str(EMBEDDED), dtype="fp32", deadline_ms=600_000)
# Function bodies and lines to complete: single-line and multi-line, healed and not.
SOURCES = [
    "def fibonacci(n):\n    ",
    "import os\n\ndef read_lines(path):\n    with open(path) as f:\n        return ",
    "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.",
    "def add(a, b):\n    return a + b\n\n\ndef mul",
    "def mean(values):\n    total = 0\n    for value in values:\n",
    "import json\n\n\ndef load(path):\n    with open(path) as handle:\n        data = json.",
]
# A list the model goes on with until max_tokens (500 tokens, seconds of work).
LONG_PROMPT = "<fim_prefix>data = [\n" + "".join(f"    {i},\n" for i in range(30))


@pytest.fixture(scope="module")
def vllm(tmp_path_factory):
    server = VllmServer(vllm_python(), tmp_path_factory.mktemp("vllm") / "vllm.log")
    try:
        server.start()
        _warm_up(server)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def remote(vllm):
    engine = open_engine(_remote_settings(vllm).model_spec())
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def local():
    return open_engine(LOCAL.model_spec())


def _remote_settings(vllm: VllmServer, **changes) -> Settings:
    return dataclasses.replace(LOCAL, engine="openai", endpoint=vllm.url, **changes)


def _warm_up(server: VllmServer) -> None:
    """The first constrained (healed) request compiles its grammar machinery: do it now."""
    server.completion({"model": server.model, "prompt": "def f(x):\n   ", "max_tokens": 2,
                       "structured_outputs": {"regex": r" [\s\S]*"}})


def complete(engine, text: str, settings: Settings = LOCAL):
    store = DocumentStore()
    doc = store.open("file:///work/sample/mod.py", text + "\n", "python")
    return CompletionPipeline(engine, settings, store).complete(doc, len(text))


def test_greedy_completions_equal_the_local_engine(local, remote):
    healed = 0
    for text in SOURCES:
        ours, theirs = complete(local, text), complete(remote, text)
        assert theirs.text == ours.text, text
        assert theirs.stats["prompt_tokens"] == ours.stats["prompt_tokens"]
        healed += bool(ours.prompt.healed)
    assert healed >= 3  # the constrained (healed) start is exercised, not only plain prompts
    assert any(complete(local, text).text for text in SOURCES)
    assert remote.describe()["server"] == "vllm"


def test_cancel_mid_stream_closes_it(vllm, remote):
    ids = remote.tokenizer.encode(LONG_PROMPT, add_special_tokens=False)
    request = GenerationRequest(ids, 500, stop=TextStop("multi-line"))
    before = vllm.metric("vllm:generation_tokens_total")
    whole = remote.generate(request)
    grown = vllm.metric("vllm:generation_tokens_total") - before
    assert grown == whole.stats["generated_tokens"] == 500  # what an uncancelled run costs
    before = vllm.metric("vllm:generation_tokens_total")
    cancelled = remote.generate(dataclasses.replace(request, cancel=CancelAfterChecks(20)))
    time.sleep(2.0)  # what the server would still generate shows up by now
    assert cancelled.stop_reason == "cancelled"
    assert cancelled.stats["generated_tokens"] <= 20
    assert vllm.metric("vllm:generation_tokens_total") - before < grown / 4


class CancelAfterChecks(threading.Event):
    """A user who cancels while the answer streams in: set at the n-th look, which the
    engine takes after every streamed chunk (and while it waits)."""

    def __init__(self, n: int):
        super().__init__()
        self.left = n

    def is_set(self) -> bool:
        self.left -= 1
        if self.left <= 0:
            self.set()
        return super().is_set()


def test_second_keystroke_reuses_the_servers_prefix_cache(remote):
    head = Path(__file__).parent.joinpath("vllm_server.py").read_text()[:1500]
    text = head + "\n\ndef port_of(url):\n    return int(url.rsplit(':', 1)[1].split('/')"
    first, second = complete(remote, text), complete(remote, text + "[")
    assert first.stats["source"] == second.stats["source"] == "model"
    assert second.stats["prompt_tokens"] > 64
    assert second.stats["reused_tokens"] > 0
    assert second.stats["prefilled_tokens"] == (second.stats["prompt_tokens"]
                                                - second.stats["reused_tokens"])


def test_no_kv_reuse_gets_no_prefix_cache_hits(vllm):
    engine = open_engine(_remote_settings(vllm).model_spec(), kv_reuse=False)
    text = "\n".join(f"value_{i} = {i} * {i}" for i in range(40)) + "\nvalue_40 = "
    assert [complete(engine, text).stats["reused_tokens"] for _ in range(2)] == [0, 0]
    engine.close()


def test_cli_complete_through_the_endpoint_prints_the_local_text(vllm, tmp_path):
    path = tmp_path / "mod.py"
    path.write_text(SOURCES[1] + "\n")
    line, character = SOURCES[1].count("\n"), len(SOURCES[1].rsplit("\n", 1)[1])
    base = [sys.executable, "-m", "sc2_lsp", "--log-level", "error", "complete", str(path),
            "--line", str(line), "--character", str(character), "--json",
            "--model", vllm.model]
    answers = []
    for extra in (["--dtype", "fp32"], ["--engine", "openai", "--endpoint", vllm.url]):
        done = subprocess.run(base + extra, check=False, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        answers.append(json.loads(done.stdout))
    assert answers[1]["text"] == answers[0]["text"] and answers[0]["text"]
    assert answers[1]["range"] == answers[0]["range"]


def test_bench_latency_replays_typists_at_once_against_the_endpoint(vllm, tmp_path):
    from .test_bench_latency import SAMPLE

    path = tmp_path / "sample.py"
    path.write_text(SAMPLE)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sc2_lsp", "--log-level", "warning", "bench", "latency",
           "--files", str(path), "--sessions", "2", "--max-requests", "3", "--engine", "openai",
           "--endpoint", vllm.url, "--model", vllm.model, "--clients", "1,2", "--out", str(out)]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads((out / "latency.json").read_text())
    assert set(data["variants"]) == {"full", "no-kv-reuse", "naive", "local-full"}
    assert data["variants"]["no-kv-reuse"]["mean_reused_tokens"] in (0, None)
    assert {n: row["requests"] for n, row in data["clients"].items()} == {"1": 6, "2": 12}
    assert all(row["errors"] == 0 and row["p99_ms"] is not None
               for row in data["clients"].values())
    clients = {r["client"] for r in data["records"] if r["variant"] == "clients=2"}
    assert clients == {0, 1}
    assert "## Typists at once, one engine" in (out / "latency.md").read_text()


@pytest.mark.asyncio(loop_scope="module")
async def test_endpoint_killed_then_restarted_mid_session(vllm, tmp_path):
    """Last in the module: it stops and restarts the shared server."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    editor = EditorSession()
    options = {"engine": "openai", "endpoint": vllm.url, "model": vllm.model,
               "deadlineMs": 600_000}
    await editor.start(workspace, options, server_command(tmp_path / "server.log"))
    try:
        assert (await editor.wait_ready())["state"] == "ready"
        text = SOURCES[1]
        uri = editor.open(workspace / "mod.py", text + "\n")
        position = (text.count("\n"), len(text.rsplit("\n", 1)[1]))
        assert (await editor.inline(uri, *position))[0]
        vllm.stop()
        editor.edit(uri, position, position, "z")  # no typing-through: a model call
        position = (position[0], position[1] + 1)
        items, _ = await editor.inline(uri, *position)
        status = await editor.status()
        assert items == []
        assert status["state"] == "error" and vllm.url in status["error"]
        assert status["engine"] == "openai" and status["last"]["stop_reason"] == "error"
        assert (await editor.inline(uri, *position))[0] == []  # alive, still empty
        await asyncio.to_thread(vllm.start)
        status = await _wait_state(editor, "ready", 120)
        assert status["error"] is None
        items, _ = await editor.inline(uri, *position)
        assert items and items[0].insert_text
        assert sum("answers are empty" in line for line in editor.log) == 1  # said once
    finally:
        await editor.stop()


async def _wait_state(editor: EditorSession, state: str, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = await editor.status()
        if status["state"] == state:
            return status
        await asyncio.sleep(0.5)
    raise AssertionError(f"the server did not become {state}: {status}")
