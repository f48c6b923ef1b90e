"""The sc2-lsp Neovim plugin in a real Neovim against the real server."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "neovim"

SOURCE = """import math


def area(radius):
    return math.pi * radius ** 2


def circumference(radius):
"""
# Long enough that automatic requests never fire during a test: the test
# decides when to ask, with require("sc2_lsp").trigger().
MANUAL = 10 * 60 * 1000


def text_and_offset(state: dict) -> tuple[bytes, int]:
    """The buffer as bytes and the cursor's byte offset in it."""
    lines = [line.encode() for line in state["lines"]]
    offset = sum(len(line) + 1 for line in lines[: state["row"]]) + state["col"]
    return b"\n".join(lines), offset


def with_inserted(state: dict, text: str) -> list[str]:
    """The buffer lines of `state` with `text` inserted at its cursor."""
    buf, off = text_and_offset(state)
    return (buf[:off] + text.encode() + buf[off:]).decode().split("\n")


def start_typing(start, typed: str = "return", **kw):
    """Neovim with the model loaded, in insert mode on a new line in a body."""
    nv = start(SOURCE, **kw)
    nv.wait_ready()
    nv.keys("Go" + typed)
    nv.wait_for(lambda: nv.state()["lines"][-1].endswith(typed), "the typed text")
    return nv


def test_ghost_text_shows_and_tab_accepts_it(nvim_factory):
    nv = start_typing(nvim_factory)
    suggestion = nv.wait_suggestion()
    state = nv.state()
    assert state["mode"].startswith("i")

    # One extmark at the cursor: its first line, then virtual lines.
    (mark,) = nv.marks()
    assert (mark["row"], mark["col"]) == (state["row"], state["col"])
    first, *rest = suggestion.split("\n")
    tabstop = nv.lua("return vim.bo.tabstop")
    assert mark["text"].rstrip() == first.expandtabs(tabstop).rstrip()
    assert [line.rstrip() for line in mark["lines"]] == [
        line.expandtabs(tabstop).rstrip() for line in rest
    ]
    shown_before = nv.server_status()["counters"]["shown"]
    assert shown_before >= 1

    nv.keys("<Tab>")
    expected = with_inserted(state, suggestion)
    nv.wait_for(lambda: nv.state()["lines"] == expected, "the suggestion in the buffer")
    after = nv.state()
    assert after["mode"].startswith("i")
    assert text_and_offset(after)[1] == text_and_offset(state)[1] + len(suggestion.encode())
    assert after["stats"]["accepted"] == 1
    nv.wait_for(lambda: nv.server_status()["counters"]["accepted"] >= 1,
                "sc2/didAcceptCompletion to reach the server")


def test_non_ascii_text_before_the_cursor(nvim_factory):
    # "é" is 2 bytes but 1 UTF-16 unit, "𝒳" 4 bytes but 2 units: a position
    # sent or read back in the wrong unit misplaces the suggestion.
    nv = start_typing(nvim_factory, typed='label = "é𝒳"; return')
    suggestion = nv.wait_suggestion()
    state = nv.state()
    (mark,) = nv.marks()
    assert (mark["row"], mark["col"]) == (state["row"], state["col"])
    nv.keys("<Tab>")
    expected = with_inserted(state, suggestion)
    nv.wait_for(lambda: nv.state()["lines"] == expected, "the suggestion in the buffer")


def test_typing_the_suggestion_keeps_the_rest_shown(nvim_factory):
    nv = start_typing(nvim_factory, debounce_ms=MANUAL)
    nv.lua("require('sc2_lsp').trigger()")
    suggestion = nv.wait_suggestion()
    assert "\n" not in suggestion[:2], suggestion
    # No request can answer in between (automatic requests are off here):
    # the rest is shown by the client itself.
    nv.keys(suggestion[:2].replace("<", "<lt>"))
    rest = suggestion[2:] or None
    nv.wait_for(lambda: nv.state()["lines"][-1].endswith(suggestion[:2]), "the typed text")
    nv.wait_for(lambda: nv.suggestion() == rest, "the rest of the suggestion")
    assert nv.stats()["requests"] == 1


def test_no_ghost_text_over_the_completion_menu(nvim_factory):
    nv = start_typing(nvim_factory, typed="r")
    nv.wait_suggestion()
    nv.keys("<C-n>")  # keyword completion from the buffer: "radius", "return"
    nv.wait_for(lambda: nv.lua("return vim.fn.pumvisible()") == 1
                and nv.suggestion() is None and nv.marks() == [],
                "the menu without ghost text")
    nv.keys("<C-e>")  # close the menu: suggestions come back
    nv.wait_suggestion()


def test_tab_without_a_suggestion_is_an_ordinary_tab(nvim_factory):
    nv = nvim_factory(SOURCE)
    nv.wait_ready()
    nv.api.command("SC2Toggle")
    nv.keys("Gox<Tab>y")
    nv.wait_for(lambda: nv.state()["lines"][-1].endswith("y"), "the typed text")
    line = nv.state()["lines"][-1]
    assert re.fullmatch(r"\s*x\s+y", line), f"<Tab> inserted whitespace: {line!r}"
    assert nv.stats()["accepted"] == 0


def test_dismiss_hides_the_suggestion_and_keeps_the_buffer(nvim_factory):
    nv = start_typing(nvim_factory)
    nv.wait_suggestion()
    before = nv.state()["lines"]
    nv.keys("<C-]>")
    nv.wait_for(lambda: nv.suggestion() is None and nv.marks() == [], "the ghost text to go")
    state = nv.state()
    assert state["lines"] == before
    assert state["mode"].startswith("i")


def test_leaving_insert_mode_hides_the_suggestion(nvim_factory):
    nv = start_typing(nvim_factory)
    nv.wait_suggestion()
    nv.keys("<C-c>")  # leaves insert mode without InsertLeave
    nv.wait_for(lambda: nv.state()["mode"] == "n" and nv.marks() == [], "the ghost text to go")
    assert nv.suggestion() is None


def test_toggle_off_sends_no_requests(nvim_factory):
    nv = start_typing(nvim_factory)
    nv.wait_suggestion()
    nv.api.command("SC2Toggle")
    assert nv.lua("return require('sc2_lsp').is_enabled()") is False
    assert nv.suggestion() is None and nv.marks() == []

    server_before = nv.server_status()["counters"]["requests"]
    client_before = nv.stats()["requests"]
    nv.keys(" math.sqrt(radius)")
    nv.wait_for(lambda: nv.state()["lines"][-1].endswith("(radius)"), "the typed text")
    time.sleep(2)  # many debounce periods: any request would have been sent
    assert nv.server_status()["counters"]["requests"] == server_before
    assert nv.stats()["requests"] == client_before
    assert nv.suggestion() is None and nv.marks() == []

    nv.api.command("SC2Toggle")
    nv.keys(" ")
    nv.wait_for(lambda: nv.server_status()["counters"]["requests"] > server_before,
                "requests once toggled back on")


def test_stale_response_is_not_shown(nvim_factory):
    nv = start_typing(nvim_factory, debounce_ms=MANUAL)
    # Control: an answer for the current state is shown.
    nv.lua("require('sc2_lsp').trigger()")
    nv.wait_suggestion()
    assert nv.stats()["stale"] == 0

    # Ask, then change the buffer before the answer can arrive.
    nv.lua("""
        local sc2 = require('sc2_lsp')
        sc2.dismiss()
        sc2.trigger()
        local row, col = unpack(vim.api.nvim_win_get_cursor(0))
        vim.api.nvim_buf_set_text(0, row - 1, col, row - 1, col, { '#' })
        vim.api.nvim_win_set_cursor(0, { row, col + 1 })
    """)
    nv.wait_for(lambda: nv.stats()["stale"] == 1, "the stale answer to arrive")
    stats = nv.stats()
    assert stats["shown"] == 1
    assert nv.suggestion() is None and nv.marks() == []


def accept_piecewise(nv, key: str) -> int:
    """Accepts the shown suggestion one piece per `key` press; returns the
    number of pieces. Each piece must be the start of what was shown, and
    the rest must stay shown at once."""
    pieces = 0
    while True:
        state = nv.state()
        shown = state["suggestion"]
        if shown is None:
            return pieces
        accepted = state["stats"]["accepted"]
        nv.keys(key)
        nv.wait_for(lambda n=accepted + 1: nv.stats()["accepted"] == n, f"{key} to accept")
        after = nv.state()
        buf, off = text_and_offset(state)
        new_buf, new_off = text_and_offset(after)
        piece = new_buf[off:new_off].decode()
        assert piece and shown.startswith(piece), (piece, shown)
        assert new_buf == buf[:off] + piece.encode() + buf[off:]
        assert after["suggestion"] == (shown[len(piece):] or None)
        pieces += 1
        assert pieces < 200


def test_accept_word_and_line(nvim_factory):
    nv = start_typing(nvim_factory, debounce_ms=MANUAL)
    for key in ("<M-Right>", "<M-C-Right>"):
        nv.lua("require('sc2_lsp').trigger()")
        suggestion = nv.wait_suggestion()
        state = nv.state()
        assert accept_piecewise(nv, key) >= 1
        assert nv.state()["lines"] == with_inserted(state, suggestion)


def test_status_checkhealth_and_no_messages_otherwise(nvim_factory):
    nv = start_typing(nvim_factory)
    nv.wait_suggestion()
    nv.keys("<Tab>")
    nv.wait_for(lambda: nv.stats()["accepted"] == 1, "the accept")
    assert nv.api.command_output("messages").strip() == ""

    nv.api.command("SC2Status")
    out = nv.wait_for(lambda: "sc2-lsp: ready" in nv.api.command_output("messages")
                      and nv.api.command_output("messages"), ":SC2Status output")
    assert "requests" in out and "accepted" in out

    nv.keys("<Esc>")
    nv.api.command("checkhealth sc2_lsp")
    report = "\n".join(nv.api.current.buffer[:])
    assert "ready on" in report, report


def test_screen_capture_of_ghost_text(nvim_factory):
    nv = start_typing(nvim_factory, tmux=True)
    suggestion = nv.wait_suggestion()
    visible = next((line.strip() for line in suggestion.split("\n") if line.strip()), None)
    assert visible, f"a suggestion with visible text: {suggestion!r}"
    visible = visible[:20]  # virtual text does not wrap: long lines end at the edge

    def capture(*flags):
        return subprocess.run(["tmux", "-L", nv.tmux_socket, "capture-pane", "-p", *flags,
                               "-t", "sc2"], check=True, capture_output=True,
                              text=True).stdout

    screen = nv.wait_for(lambda: visible in capture() and capture(), "the ghost text on screen")
    version = nv.lua("local v = vim.version() return v.major .. '.' .. v.minor .. '.' .. v.patch")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"ghost_text-nvim-{version}.txt").write_text(screen)
    (ARTIFACTS / f"ghost_text-nvim-{version}.ansi").write_text(capture("-e"))
