"""The server at the JSON-RPC level: malformed or unusual messages get an error or
an answer, never a crash; `exit` ends the process with LSP's exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SERVER = [sys.executable, "-m", "sc2_lsp", "--log-level", "error", "serve",
          "--model", "random:tiny"]


class RawClient:
    """Bytes in, bytes out: what a buggy editor could send."""

    def __init__(self):
        self.proc = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)

    def send_bytes(self, body: bytes) -> None:
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def send(self, message: dict) -> None:
        self.send_bytes(json.dumps({"jsonrpc": "2.0", **message}).encode())

    def receive(self) -> dict:
        length = 0
        while header := self.proc.stdout.readline().strip():
            if header.lower().startswith(b"content-length"):
                length = int(header.split(b":")[1])
        return json.loads(self.proc.stdout.read(length))

    def answer(self, msg_id) -> dict:
        """The response to `msg_id`, skipping notifications and server requests."""
        while (message := self.receive()).get("id") != msg_id or "method" in message:
            pass
        return message

    def request(self, msg_id, method: str, **params) -> dict:
        self.send({"id": msg_id, "method": method, **params})
        return self.answer(msg_id)


@pytest.fixture
def raw():
    client = RawClient()
    client.request(1, "initialize", params={"capabilities": {}})
    client.send({"method": "initialized", "params": {}})
    yield client
    if client.proc.poll() is None:
        client.proc.kill()
    client.proc.wait(30)


def test_custom_request_without_params(raw):
    assert raw.request(2, "sc2/status")["result"]["model"] == "random:tiny"


def test_malformed_messages_leave_the_server_answering(raw):
    raw.send_bytes(b"{not json")
    raw.send({"id": 3, "method": "textDocument/inlineCompletion", "params": {"bogus": 1}})
    assert "error" in raw.answer(3)
    raw.send({"id": 4, "method": "no/such/method", "params": {}})
    assert raw.answer(4)["error"]["code"] == -32601
    raw.send({"method": "textDocument/didChange", "params": {"textDocument": {"uri": "x"}}})
    assert raw.request(5, "sc2/status", params={})["result"]["model"] == "random:tiny"


def test_exit_after_shutdown_is_code_zero(raw):
    assert raw.request(6, "shutdown")["result"] is None
    raw.send({"method": "exit"})
    assert raw.proc.wait(30) == 0


def test_exit_without_shutdown_is_code_one(raw):
    raw.send({"method": "exit"})
    assert raw.proc.wait(30) == 1


def test_closing_the_stream_ends_the_process(raw):
    raw.proc.stdin.close()
    assert raw.proc.wait(30) == 1
