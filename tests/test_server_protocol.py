"""The server at the JSON-RPC level: malformed or unusual messages get an error or
an answer, never a crash; a bad frame costs that one message; LSP's lifecycle is kept;
`exit` ends the process with LSP's exit codes."""

from __future__ import annotations

import json
import re

import pytest

from tests.rawlsp import RawClient


@pytest.fixture
def raw():
    client = RawClient()
    client.request(1, "initialize", params={"capabilities": {}})
    client.send({"method": "initialized", "params": {}})
    yield client
    client.close()


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


# ------------------------------------------------------------- framing and JSON-RPC
@pytest.fixture(scope="module")
def wire():
    """Initialized without `initialized`: no model is loaded, every request is answered."""
    client = RawClient()
    client.initialize()
    yield client
    client.close()


def status_body(msg_id) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": "sc2/status"}).encode()


def read_until(client: RawClient, msg_id) -> list[dict]:
    """Every message up to and including the answer to `msg_id`."""
    start = len(client.seen)
    client.answer(msg_id)
    return client.seen[start:]


def answered_ids(messages: list[dict]) -> list:
    return [m.get("id") for m in messages if "method" not in m]


@pytest.mark.parametrize("case", ["short", "long", "not-a-number", "negative", "missing",
                                  "garbage-before"])
def test_a_bad_frame_costs_that_message_only(wire, case):
    lost, good = f"lost-{case}", f"good-{case}"
    body = status_body(lost)
    header = {"short": b"Content-Length: %d\r\n\r\n" % (len(body) - 5),
              "long": b"Content-Length: %d\r\n\r\n" % (len(body) + 40),
              "not-a-number": b"Content-Length: twelve\r\n\r\n",
              "negative": b"Content-Length: -3\r\n\r\n",
              "missing": b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n",
              "garbage-before": b"}} stray bytes Content-Length: %d\r\n\r\n" % len(body),
              }[case]
    wire.send_bytes(body, header)
    wire.send_bytes(status_body(good))
    messages = read_until(wire, good)
    if case == "garbage-before":  # the header is found after the garbage: nothing lost
        assert answered_ids(messages) == [lost, good]
    elif case == "short":  # the truncated body is no JSON: a parse error, then resync
        assert answered_ids(messages) == [None, good]
        assert messages[0]["error"]["code"] == -32700
    else:
        assert answered_ids(messages) == [good]
    assert messages[-1]["result"]["state"] == "idle"


@pytest.mark.parametrize("header", [b"content-length: %d\r\n\r\n", b"CONTENT-LENGTH:%d\n\n",
                                    b"Content-Length: %d\n\n",
                                    b"Content-Type: x\r\ncontent-Length : %d \r\n\r\n"])
def test_header_names_in_any_case_and_lf_line_ends_are_read(wire, header):
    msg_id = f"case-{header[:9].decode()}-{len(header)}"
    body = status_body(msg_id)
    wire.send_bytes(body, header % len(body))
    assert answered_ids(read_until(wire, msg_id)) == [msg_id]


def test_a_huge_content_length_is_refused_without_reading_it_into_memory(wire):
    rss_before = rss_mb(wire.proc.pid)
    junk = b"x" * (80 * 1024 * 1024)
    wire.send_bytes(junk, b"Content-Length: %d\r\n\r\n" % len(junk))
    wire.send_bytes(status_body("after-huge"))
    assert answered_ids(read_until(wire, "after-huge")) == ["after-huge"]
    assert rss_mb(wire.proc.pid) - rss_before < 20


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1)) / 1024


@pytest.mark.parametrize(("body", "code", "answer_id"), [
    (b"{not json", -32700, None),
    (b'{"id": "no-version", "method": "sc2/status"}', -32600, "no-version"),
    (b'{"jsonrpc": "1.0", "id": "old", "method": "sc2/status"}', -32600, "old"),
    (b'{"jsonrpc": "2.0", "id": {"an": "object"}, "method": "sc2/status"}', -32600, None),
    (b'{"jsonrpc": "2.0", "id": true, "method": "sc2/status"}', -32600, None),
    (b'{"jsonrpc": "2.0", "id": "m", "method": 7}', -32600, "m"),
    (b'{"jsonrpc": "2.0", "id": "p", "method": "sc2/status", "params": 3}', -32600, "p"),
    (b'[{"jsonrpc": "2.0", "id": "batch", "method": "sc2/status"}]', -32600, None),
    (b'"just a string"', -32600, None),
    (b'{"jsonrpc": "2.0", "id": "nan", "method": "sc2/status", "params": {"x": NaN}}',
     -32700, None),
    (b'\xff\xfe{}', -32700, None),
])
def test_malformed_json_rpc_gets_the_specified_error(wire, body, code, answer_id):
    wire.send_bytes(body)
    wire.send_bytes(status_body("after"))
    messages = read_until(wire, "after")
    assert [(m.get("id"), m.get("error", {}).get("code")) for m in messages] == [
        (answer_id, code), ("after", None)]
    assert "id" in messages[0]  # JSON-RPC writes out a null id


def test_a_message_nested_in_params_is_not_taken_for_one(wire):
    nested = {"jsonrpc": "2.0", "id": "nested", "method": "shutdown"}
    wire.send({"id": "outer", "method": "sc2/status", "params": {"x": nested, "y": [nested]}})
    messages = read_until(wire, "outer")
    assert answered_ids(messages) == ["outer"] and "result" in messages[-1]
    assert wire.request("alive", "sc2/status")["result"]["state"] == "idle"


def test_the_document_is_the_clients_with_other_line_separators(wire):
    uri = "file:///t/separators.txt"
    wire.send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "plaintext", "version": 1,
        "text": "a\u2028b\f\v\x85c\ncdef\n"}}})
    wire.send({"method": "textDocument/didChange", "params": {
        "textDocument": {"uri": uri, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 1, "character": 4},
                       "end": {"line": 1, "character": 4}}, "text": "Z"},
            {"range": {"start": {"line": 0, "character": 99},  # past the line's end
                       "end": {"line": 0, "character": 5}}, "text": "!"}]}})  # reversed
    document = wire.document(uri)
    assert document["text"] == "a\u2028b\f\v!\ncdefZ\n"  # [5, 7) replaced
    assert (document["version"], document["lineCount"]) == (2, 3)


# ---------------------------------------------------------------------- lifecycle
@pytest.fixture
def fresh():
    client = RawClient()
    yield client
    client.close()


def test_requests_before_initialize_are_refused_and_initialize_is_once(fresh):
    uri = "file:///t/early.py"
    assert fresh.request("early", "sc2/status")["error"]["code"] == -32002
    fresh.send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": "x = 1\n"}}})
    assert "capabilities" in fresh.initialize()["result"]
    assert fresh.document(uri) is None  # the notification before initialize was dropped
    again = fresh.request("again", "initialize", params={"capabilities": {}})
    assert again["error"]["code"] == -32600
    assert fresh.request("after", "sc2/status")["result"]["state"] == "idle"


def test_requests_after_shutdown_are_invalid(fresh):
    fresh.initialize()
    assert fresh.request("down", "shutdown")["result"] is None
    assert fresh.request("late", "sc2/status")["error"]["code"] == -32600
    assert fresh.request("twice", "shutdown")["error"]["code"] == -32600
    fresh.send({"method": "exit"})
    assert fresh.proc.wait(30) == 0


def test_an_initialize_with_bad_params_can_be_sent_again(fresh):
    bad = fresh.request("bad", "initialize", params={"capabilities": 7})
    assert bad["error"]["code"] == -32602
    assert "capabilities" in fresh.initialize()["result"]


def test_keystrokes_leave_nothing_behind(wire):
    """pygls filed a future per sync notification that nothing removed: a leak a keystroke."""
    uri = "file:///t/keys.py"
    wire.send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": ""}}})
    for i in range(300):
        wire.send({"method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": i + 2}, "contentChanges": [
                {"range": {"start": {"line": 0, "character": i},
                           "end": {"line": 0, "character": i}}, "text": "x"}]}})
    document = wire.document(uri)
    assert (document["length"], document["pendingRequests"]) == (300, 0)
