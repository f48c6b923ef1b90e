"""Neovim's built-in LSP client (Debian's 0.7.2), configured as docs/editors.md says:
`vim.lsp.start_client` + omnifunc, no plugin. Driven headless through pynvim."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.editors.harness import (
    EXIT_TIMEOUT,
    HEAD,
    OPTIONS,
    STARTUP_TIMEOUT,
    TYPED,
    doc_config,
    kill,
    log_tail,
    server_answer,
    server_command,
    server_pids,
    wait_for,
)

pynvim = pytest.importorskip("pynvim")
NVIM = shutil.which("nvim")
pytestmark = pytest.mark.skipif(NVIM is None,
                                reason="nvim is not installed (scripts/system-deps.sh)")
SETTINGS = {"multiline": "never", **OPTIONS}  # the documented one, and no deadline


def lua_list(items: list[str]) -> str:
    return "{ " + ", ".join(json.dumps(i) for i in items) + " }"


def status(api) -> dict | None:
    """`sc2/status` from the attached client (None until it answers)."""
    return api.exec_lua("""
      local res = vim.lsp.buf_request_sync(0, "sc2/status", {}, 5000) or {}
      for _, r in pairs(res) do if r.result then return r.result end end
      return nil""")


# (file, its text above the typed line, typed, filetype). PHP: the word is `$to`, while
# Vim's 'iskeyword' has no `$`: the item's range must be what Neovim follows.
CASES = [("main.py", HEAD, TYPED, "python"),
         ("main.php", "<?php\n$total = 1;\n", "$x = $to", "php")]


@pytest.mark.parametrize("name, head, typed, filetype", CASES, ids=["python", "php"])
def test_omnifunc_inserts_the_typed_word_and_the_suggestion(workspace, tmp_path, name, head,
                                                             typed, filetype):
    (workspace / name).write_text(head + "\n")
    log = tmp_path / "server.log"
    init = tmp_path / "init.lua"
    init.write_text("vim.o.swapfile = false\n" + doc_config("neovim", {
        '{ "sc2-lsp", "serve" }': lua_list(server_command(log)),
        'pattern = { "python" }': f'pattern = {{ "{filetype}" }}',
        'init_options = { multiline = "never" },':
            f"init_options = vim.fn.json_decode('{json.dumps(SETTINGS)}'),",
    }))
    sock = tmp_path / "nvim.sock"
    proc = subprocess.Popen([NVIM, "--headless", "--clean", "-u", str(init), "--listen",
                             str(sock), name], cwd=workspace, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(sock.exists, "nvim's --listen socket", 30)
        api = pynvim.attach("socket", path=str(sock))
        pids = wait_for(lambda: server_pids(log), "the server process", STARTUP_TIMEOUT)
        state = wait_for(lambda: (s := status(api)) and s["state"] in ("ready", "error") and s,
                         "the model to load", STARTUP_TIMEOUT, lambda: log_tail(log))
        assert state["state"] == "ready", state

        api.input("GA" + typed)
        row = head.count("\n")
        wait_for(lambda: api.current.buffer[:] == head.split("\n")[:-1] + [typed],
                 "the typed text", 30)
        api.input("<C-x><C-o>")
        expected = typed + server_answer(workspace, head + typed + "\n", row, len(typed),
                                         SETTINGS, name, filetype)
        assert expected != typed
        wait_for(lambda: api.current.buffer[row] == expected, "the completion in the buffer",
                 60, lambda: f"line: {api.current.buffer[row]!r}\n{log_tail(log)}")
        assert api.api.get_mode()["mode"].startswith("i")

        api.command("qa!", async_=True)
        proc.wait(timeout=EXIT_TIMEOUT)
        wait_for(lambda: not server_pids(log), "the server to exit with Neovim", EXIT_TIMEOUT)
        assert pids
    finally:
        if proc.poll() is None:
            proc.kill()
        kill(server_pids(log))
