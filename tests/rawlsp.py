"""A byte-level LSP client for tests: it sends what a buggy editor could send, and reads
the server's answers without any library in between."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SERVER = [sys.executable, "-m", "sc2_lsp", "--log-level", "error", "serve",
          "--model", "random:tiny"]


class RawClient:
    """One `sc2-lsp serve` process; `sc2/debugDocument` is enabled for it."""

    def __init__(self, command: list[str] = SERVER):
        env = {**os.environ, "SC2_LSP_DEBUG": "1"}
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env)
        self.seen: list[dict] = []  # every message read so far, in order

    def send_bytes(self, body: bytes, header: bytes | None = None) -> None:
        if header is None:
            header = b"Content-Length: %d\r\n\r\n" % len(body)
        self.proc.stdin.write(header + body)
        self.proc.stdin.flush()

    def send(self, message: dict) -> None:
        self.send_bytes(json.dumps({"jsonrpc": "2.0", **message}).encode())

    def receive(self) -> dict:
        length = 0
        while header := self.proc.stdout.readline().strip():
            if header.lower().startswith(b"content-length"):
                length = int(header.split(b":")[1])
        if not length:
            raise EOFError("the server closed its output")
        message = json.loads(self.proc.stdout.read(length))
        self.seen.append(message)
        return message

    def answer(self, msg_id) -> dict:
        """The response to `msg_id`, skipping notifications and server requests."""
        while (message := self.receive()).get("id") != msg_id or "method" in message:
            pass
        return message

    def request(self, msg_id, method: str, **params) -> dict:
        self.send({"id": msg_id, "method": method, **params})
        return self.answer(msg_id)

    def initialize(self, encoding: str | None = None) -> dict:
        general = {"positionEncodings": [encoding]} if encoding else {}
        return self.request(1, "initialize", params={"capabilities": {"general": general}})

    def document(self, uri: str) -> dict | None:
        return self.request(f"doc-{len(self.seen)}", "sc2/debugDocument",
                            params={"uri": uri})["result"]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)
        self.proc.stdin.close()
        self.proc.stdout.close()
