"""HTTP to an OpenAI-compatible server, stdlib only: JSON requests, server-sent event
streams that can be closed at any moment, and the endpoint's health.

Closing a stream closes its connection; that is how a server (vLLM) learns that the
rest of a generation is not wanted and aborts it.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import queue
import socket
import ssl
import threading
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

API_KEY_ENV = "SC2_API_KEY"
END = object()  # the stream is over
WAITING = object()  # nothing new yet


class EndpointError(RuntimeError):
    """The endpoint is down, slow, refused the request or answered garbage."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status  # the HTTP status, when the server answered with an error


class Endpoint:
    """A base URL such as http://host:8000/v1; TLS with the system's certificates."""

    def __init__(self, base_url: str, timeout_s: float = 10.0):
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"endpoint '{base_url}' is not an http(s) URL")
        self.url, self.timeout_s = base_url.rstrip("/"), timeout_s
        self._parts = parts
        self._tls = ssl.create_default_context() if parts.scheme == "https" else None

    def get_json(self, path: str) -> dict:
        conn, response = self._open("GET", path, None)
        try:
            return _json(response.read(), self.url + path)
        except OSError as exc:
            raise EndpointError(f"{self.url}{path}: {_reason(exc)}") from exc
        finally:
            conn.close()

    def stream(self, path: str, body: dict) -> EventStream:
        """POST `body` and read the answer as server-sent events."""
        conn, response = self._open("POST", path, body)
        return EventStream(conn, response, self.url + path)

    def _open(self, method: str, path: str, body: dict | None):
        host, port = self._parts.hostname, self._parts.port
        if self._tls is not None:
            conn = http.client.HTTPSConnection(host, port, timeout=self.timeout_s,
                                               context=self._tls)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=self.timeout_s)
        data = None if body is None else json.dumps(body).encode()
        try:
            conn.request(method, self._parts.path + path, body=data, headers=_headers(data))
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise EndpointError(f"cannot reach {self.url}: {_reason(exc)}") from exc
        if response.status != 200:
            detail = _error_detail(response)
            conn.close()
            raise EndpointError(f"{self.url}{path} answered {response.status}: {detail}",
                                response.status)
        return conn, response


class EventStream:
    """The `data:` events of one response, read on their own thread so that the reader
    can stop waiting at once (cancel, deadline, a stop rule) and close the connection."""

    def __init__(self, conn: http.client.HTTPConnection, response, where: str):
        self._conn, self._response, self._where = conn, response, where
        self._events: queue.Queue = queue.Queue()
        self._closed = False
        threading.Thread(target=self._pump, daemon=True, name="sc2-stream").start()

    def next(self, wait_s: float):
        """The next event (a dict), END, WAITING after `wait_s`; EndpointError if it broke."""
        try:
            item = self._events.get(timeout=wait_s)
        except queue.Empty:
            return WAITING
        if isinstance(item, EndpointError):
            raise item
        return item

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        sock = self._conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the reader thread up
            except OSError:
                pass
        self._conn.close()

    def _pump(self) -> None:
        try:
            for raw in self._response:
                line = raw.decode("utf-8", errors="replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                self._events.put(_json(data.encode(), self._where))
        except EndpointError as exc:
            self._events.put(exc)
        except Exception as exc:  # noqa: BLE001 - closing under a reader breaks it anyhow
            if not self._closed:
                self._events.put(EndpointError(f"{self._where}: {_reason(exc)}"))
        self._events.put(END)


class Health:
    """Up, or down since a failure: while down, calls are answered empty at once and one
    probe at a time runs in the background with a growing pause (1 s doubling to 30 s),
    so a dead endpoint gets no request storm and a returning one is noticed by itself."""

    FIRST_PAUSE_S, MAX_PAUSE_S = 1.0, 30.0

    def __init__(self, probe):
        self._probe = probe  # raises EndpointError while the endpoint is unusable
        self.error: str | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._prober: threading.Thread | None = None

    @property
    def up(self) -> bool:
        return self.error is None

    def failed(self, message: str) -> None:
        with self._lock:
            first = self.error is None
            self.error = message
            if self._prober is None and not self._closed.is_set():
                self._prober = threading.Thread(target=self._recover, daemon=True,
                                                name="sc2-endpoint-probe")
                self._prober.start()
        if first:
            log.error("%s; answers are empty until it is back", message)

    def check(self) -> None:
        """Probe now (at start-up): up, or down with probing in the background."""
        try:
            self._probe()
        except EndpointError as exc:
            self.failed(str(exc))

    def close(self) -> None:
        self._closed.set()

    def _recover(self) -> None:
        pause = self.FIRST_PAUSE_S
        while not self._closed.wait(pause):
            try:
                self._probe()
            except EndpointError as exc:
                self.error = str(exc)
                pause = min(pause * 2, self.MAX_PAUSE_S)
                continue
            with self._lock:
                self.error, self._prober = None, None
            log.warning("endpoint is back")
            return


def _headers(data: bytes | None) -> dict:
    headers = {"Accept": "application/json, text/event-stream"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    if key := os.environ.get(API_KEY_ENV):
        headers["Authorization"] = f"Bearer {key}"
    return headers


def _json(data: bytes, where: str):
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise EndpointError(f"{where} answered something that is not JSON: "
                            f"{data[:80]!r}") from exc
    if not isinstance(value, dict):
        raise EndpointError(f"{where} answered JSON that is not an object: {data[:80]!r}")
    return value


def _error_detail(response) -> str:
    """The server's own error message, short (vLLM and llama.cpp: {"error": {...}})."""
    try:
        raw = response.read(4096)
        body = json.loads(raw)
        error = body.get("error", body) if isinstance(body, dict) else body
        message = error.get("message", error) if isinstance(error, dict) else error
        return str(message)[:300]
    except (OSError, ValueError, http.client.HTTPException):
        return response.reason or "no details"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    return str(exc) or type(exc).__name__

