"""The remote engine when the endpoint is down, slow or answers garbage: the real server
(over stdio) says so in `sc2/status`, answers empty and stays alive. The endpoint here is
a small HTTP server of the test's own that misbehaves on purpose; real answers are tested
against vLLM in test_remote_engine.py."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from sc2_lsp.bench.lsp_client import EditorSession, server_command
from sc2_lsp.config import ModelSpec
from sc2_lsp.engine import GenerationRequest, open_engine

from .vllm_server import EMBEDDED

KEY = "sk-test-0123456789"
TEXT = "def mean(values):\n    return sum(values) / "


class Misbehaving(BaseHTTPRequestHandler):
    """Lists the embedded model like vLLM does; answers completions as `mode` says."""

    mode = "garbage"
    seen_keys: ClassVar[list[str]] = []
    bodies: ClassVar[list[dict]] = []

    def do_GET(self):
        self.seen_keys.append(self.headers.get("Authorization", ""))
        self._send(200, json.dumps({"object": "list", "data": [
            {"id": str(EMBEDDED), "object": "model", "owned_by": "vllm"}]}).encode())

    def do_POST(self):
        self.seen_keys.append(self.headers.get("Authorization", ""))
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.bodies.append(body)
        if self.mode == "unconstrained":  # a server without structured outputs
            if "structured_outputs" in body:
                self._send(400, b'{"error": {"message": "unknown field structured_outputs"}}')
            else:
                self._send(200, b'data: {"choices": [{"text": "ok", "finish_reason": "stop"}]}'
                           b"\n\ndata: [DONE]\n\n", "text/event-stream")
            return
        if self.mode == "slow":
            time.sleep(3)
            return
        if self.mode == "error":
            self._send(500, b'{"error": {"message": "engine core died"}}')
            return
        self._send(200, b"data: this is not json\n\n", "text/event-stream")

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(tls: ssl.SSLContext | None = None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Misbehaving.seen_keys, Misbehaving.bodies = [], []
    return server, f"http{'s' if tls else ''}://127.0.0.1:{server.server_address[1]}/v1"


@pytest.fixture
def endpoint():
    server, url = _serve()
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def tls_endpoint(tmp_path):
    """An HTTPS endpoint whose certificate (self-signed, for 127.0.0.1) is in no store."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server, url = _serve(tls)
    yield url, cert
    server.shutdown()
    server.server_close()


async def _session(tmp_path, endpoint: str, **options) -> EditorSession:
    editor = EditorSession()
    settings = {"engine": "openai", "endpoint": endpoint, "model": str(EMBEDDED), **options}
    await editor.start(tmp_path, settings, server_command(tmp_path / "server.log"))
    await editor.wait_ready()
    return editor


async def _complete_and_status(editor: EditorSession, tmp_path) -> tuple[list, dict]:
    uri = editor.open(tmp_path / "mod.py", TEXT + "\n")
    items, _ = await editor.inline(uri, 1, len(TEXT.split("\n")[1]))
    return items, await editor.status()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_endpoint_down_from_the_start(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    editor = await _session(tmp_path, url)
    try:
        items, status = await _complete_and_status(editor, tmp_path)
        assert items == []
        assert status["state"] == "error" and f"cannot reach {url}" in status["error"]
        assert status["engine"] == "openai" and status["endpoint"] == url
        assert (await editor.status())["state"] == "error"  # alive, still answering
    finally:
        await editor.stop()


@pytest.mark.parametrize(("mode", "message"), [("garbage", "not JSON"),
                                               ("error", "answered 500: engine core died"),
                                               ("slow", "timed out")])
async def test_a_misbehaving_endpoint_gives_empty_answers(tmp_path, endpoint, monkeypatch,
                                                          mode, message):
    monkeypatch.setattr(Misbehaving, "mode", mode)
    monkeypatch.setenv("SC2_API_KEY", KEY)
    editor = await _session(tmp_path, endpoint, endpointTimeoutMs=500, logLevel="debug")
    try:
        items, status = await _complete_and_status(editor, tmp_path)
        assert items == []
        assert status["state"] == "error" and message in status["error"]
        assert status["last"]["stop_reason"] == "error"
        assert (await editor.status())["counters"]["model_calls"] == 1
    finally:
        await editor.stop()
    assert Misbehaving.seen_keys and set(Misbehaving.seen_keys) == {f"Bearer {KEY}"}
    logged = (tmp_path / "server.log").read_text() + "\n".join(editor.log)
    assert KEY not in logged


async def test_an_invalid_endpoint_is_one_clear_error(tmp_path):
    editor = await _session(tmp_path, "localhost:8000")
    try:
        status = await editor.status()
        assert status["state"] == "error"
        assert status["error"] == "endpoint 'localhost:8000' is not an http(s) URL"
        assert any("is not an http(s) URL" in m for m in editor.messages)
    finally:
        await editor.stop()


async def test_tls_checks_the_certificate_against_the_systems_store(tmp_path, tls_endpoint,
                                                                      monkeypatch):
    url, cert = tls_endpoint
    editor = await _session(tmp_path, url)
    try:
        status = await editor.status()
        assert status["state"] == "error" and "CERTIFICATE_VERIFY_FAILED" in status["error"]
    finally:
        await editor.stop()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the store, with this certificate in it
    editor = await _session(tmp_path, url)
    try:
        status = await editor.status()  # through TLS to the endpoint, which answers garbage
        assert status["state"] == "error" and "not JSON" in status["error"]
    finally:
        await editor.stop()


async def test_a_tokenizer_that_is_not_here_is_one_clear_error(tmp_path, endpoint):
    editor = await _session(tmp_path, endpoint, model="bigcode/not-in-the-cache")
    try:
        status = await editor.status()
        assert status["state"] == "error"
        assert "cannot load the tokenizer from 'bigcode/not-in-the-cache'" in status["error"]
        assert "set tokenizer to a local folder" in status["error"]
    finally:
        await editor.stop()


def test_a_refused_constraint_falls_back_to_no_healing_once(endpoint, monkeypatch, caplog):
    monkeypatch.setattr(Misbehaving, "mode", "unconstrained")
    engine = open_engine(ModelSpec(str(EMBEDDED), engine="openai", endpoint=endpoint))
    assert engine.healing == "regex"  # it says it is vLLM
    prompt = engine.tokenizer.encode("<fim_prefix>def f(x):\n    return", add_special_tokens=False)
    healed = [engine.generate(GenerationRequest(prompt, 8, forced_text=" x")) for _ in range(2)]
    engine.close()
    assert [g.text for g in healed] == ["ok", "ok"]
    completions = [b for b in Misbehaving.bodies if b["max_tokens"] == 8]
    assert ["structured_outputs" in b for b in completions] == [True, False, False]
    back = prompt + engine.tokenizer.encode(" x", add_special_tokens=False)
    assert completions[1]["prompt"] == completions[2]["prompt"] == back  # the cut text put back
    assert sum("without token healing" in r.message for r in caplog.records) == 1
