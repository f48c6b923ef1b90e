"""Vim with ALE (Debian's Vim 9 + vim-ale 3.3), configured as docs/editors.md says,
in tmux: keys go in with send-keys, the screen comes back with capture-pane."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

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
    server_pids,
    wait_for,
)

VIM, TMUX = shutil.which("vim"), shutil.which("tmux")
ALE = Path("/usr/share/vim/vimfiles/pack/dist-bundle/opt/ale")  # Debian's vim-ale
pytestmark = pytest.mark.skipif(
    VIM is None or TMUX is None or not ALE.is_dir(),
    reason="vim, vim-ale or tmux is not installed (scripts/system-deps.sh)")
SETTINGS = {"multiline": "never", **OPTIONS}  # the documented one, and no deadline


class Tmux:
    def __init__(self, socket: str):
        self.socket = socket

    def __call__(self, *args: str, check: bool = True) -> str:
        return subprocess.run([TMUX, "-L", self.socket, *args], check=check, timeout=30,
                              capture_output=True, text=True).stdout

    def screen(self) -> list[str]:
        return [line.rstrip() for line in self("capture-pane", "-p", "-t", "vim").splitlines()]

    def alive(self) -> bool:
        return subprocess.run([TMUX, "-L", self.socket, "has-session", "-t", "vim"],
                              check=False, capture_output=True, timeout=30).returncode == 0


def test_ale_completion_inserts_the_typed_word_and_the_suggestion(workspace, tmp_path):
    log = tmp_path / "server.log"
    vimrc = tmp_path / "vimrc"
    vimrc.write_text("set nocompatible noswapfile\n" + doc_config("ale", {
        "'executable': 'sc2-lsp'": f"'executable': '{sys.executable}'",
        "'command': '%e serve'": f"'command': '%e -m sc2_lsp --log-file {log} serve'",
        "'initialization_options': {'multiline': 'never'}":
            f"'initialization_options': {json.dumps(SETTINGS)}",  # JSON is Vim script
    }))
    tmux = Tmux(f"sc2-ale-{tmp_path.name}")
    # A new tmux server copies this process's environment; HOME keeps ~/.vim out.
    tmux("new-session", "-d", "-s", "vim", "-x", "100", "-y", "20", "-c", str(workspace),
         "env", f"HOME={tmp_path}", VIM, "-Nu", str(vimrc), "main.py")
    try:
        pids = wait_for(lambda: server_pids(log), "ALE to start the server", STARTUP_TIMEOUT)
        wait_for(lambda: log.exists() and " ready" in log.read_text(), "the model to load",
                 STARTUP_TIMEOUT, lambda: log_tail(log))
        tmux("send-keys", "-t", "vim", "G", "A")
        tmux("send-keys", "-t", "vim", "-l", TYPED)
        wait_for(lambda: tmux.screen()[2] == TYPED, "the typed text", 30, tmux.screen)
        tmux("send-keys", "-t", "vim", "C-Space")  # a terminal's Ctrl+Space: NUL, <C-@>
        wait_for(lambda: "Omni completion" in tmux.screen()[-1], "ALE's completion menu", 60,
                 lambda: "\n".join(tmux.screen()) + log_tail(log))
        tmux("send-keys", "-t", "vim", "C-n")
        answer = server_answer(workspace, HEAD + TYPED + "\n", 2, len(TYPED), SETTINGS)
        word = re.match(r"[^(]*", "gre" + answer).group()  # ALE stops at the first "("
        expected = TYPED.removesuffix("gre") + word
        assert expected != TYPED
        wait_for(lambda: tmux.screen()[2] == expected, "the completion in the buffer", 30,
                 lambda: "\n".join(tmux.screen()))

        tmux("send-keys", "-t", "vim", "Escape", ":qa!", "Enter")
        wait_for(lambda: not tmux.alive(), "Vim to quit", EXIT_TIMEOUT)
        wait_for(lambda: not server_pids(log), "the server to exit with Vim", EXIT_TIMEOUT)
        assert pids
    finally:
        tmux("kill-server", check=False)
        kill(server_pids(log))
