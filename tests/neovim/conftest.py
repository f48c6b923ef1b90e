"""Drive a real Neovim (Debian's 0.7.2 in CI) running the sc2-lsp plugin
against the real server.

Neovim runs as `nvim --headless --clean -u init.lua --listen SOCK file.py`
(or inside tmux when a screen capture is wanted); pynvim attaches to SOCK.
Keys go in with `nvim.input()`, which Neovim's main loop processes as typed
keys, so insert mode, TextChangedI and mappings behave as for a person.
State is read back with `exec_lua` through the small `T` helper table that
init.lua defines. Every wait polls with a generous timeout: tests assert what
happens, never how fast.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pynvim = pytest.importorskip("pynvim")

REPO = Path(__file__).resolve().parents[2]
PLUGIN_DIR = REPO / "clients" / "neovim"
ARTIFACTS = REPO / "tests" / "artifacts" / "neovim"
# The server under test, from the same environment as pytest.
SERVER_CMD = [sys.executable, "-m", "sc2_lsp", "serve"]
# Any model whose suggestions are non-empty; override to try another.
TEST_SETTINGS = json.loads(os.environ.get("SC2_NVIM_TEST_SETTINGS", '{"model": "random:tiny"}'))
STARTUP_TIMEOUT = 240.0  # python + torch imports on a loaded 2-core machine
READY_TIMEOUT = float(os.environ.get("SC2_NVIM_READY_TIMEOUT", "300"))
WAIT = 120.0
# The Neovim under test: Debian's 0.7.2 by default; any newer binary works.
NVIM = os.environ.get("SC2_NVIM", "nvim")

# Helpers the tests call through exec_lua. They read state only; every
# action goes through keys or the plugin's public API.
INIT_LUA = r"""
vim.opt.rtp:prepend(PLUGIN_DIR)
vim.o.swapfile = false
vim.o.shortmess = vim.o.shortmess .. "I"
require("sc2_lsp").setup(SETUP)

T = {}

function T.status()
  local done, out = false, nil
  require("sc2_lsp").status(function(err, st)
    out = { err = err, status = st }
    done = true
  end)
  vim.wait(10000, function() return done end, 20)
  return out
end

function T.marks()
  local ns = vim.api.nvim_create_namespace("sc2_lsp")
  local out = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
    local d = m[4]
    local text = {}
    for _, chunk in ipairs(d.virt_text or {}) do text[#text + 1] = chunk[1] end
    local lines = {}
    for _, vl in ipairs(d.virt_lines or {}) do
      local l = {}
      for _, chunk in ipairs(vl) do l[#l + 1] = chunk[1] end
      lines[#lines + 1] = table.concat(l)
    end
    out[#out + 1] = { row = m[2], col = m[3], text = table.concat(text), lines = lines,
                      pos = d.virt_text_pos }
  end
  return out
end

function T.state()
  local cursor = vim.api.nvim_win_get_cursor(0)
  return {
    mode = vim.api.nvim_get_mode().mode,
    row = cursor[1] - 1,
    col = cursor[2],
    lines = vim.api.nvim_buf_get_lines(0, 0, -1, true),
    suggestion = require("sc2_lsp").suggestion() or vim.NIL,
    stats = require("sc2_lsp").stats(),
  }
end
"""


def lua_value(value) -> str:
    """A Python value as a Lua literal (JSON decoded by Neovim)."""
    return f"vim.fn.json_decode({json.dumps(json.dumps(value))})"


class Nvim:
    def __init__(self, api, workdir: Path, log_dir: Path):
        self.api = api
        self.workdir = workdir
        self.log_dir = log_dir

    def lua(self, code: str, *args):
        return self.api.exec_lua(code, *args)

    def keys(self, keys: str) -> None:
        self.api.input(keys)

    def state(self) -> dict:
        return self.lua("return T.state()")

    def marks(self) -> list:
        return self.lua("return T.marks()")

    def suggestion(self):
        return self.lua("return require('sc2_lsp').suggestion()")

    def stats(self) -> dict:
        return self.lua("return require('sc2_lsp').stats()")

    def server_status(self) -> dict | None:
        out = self.lua("return T.status()")
        return out.get("status") if out else None

    def server_running(self) -> bool:
        return self.lua("return require('sc2_lsp.client').get(0) ~= nil")

    def wait_for(self, predicate, what: str, timeout: float = WAIT):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; state: {self.state()}\n"
                                     f"{self.server_log()}")
            time.sleep(0.1)

    def wait_ready(self) -> dict:
        # A server that never comes up (or exits) fails fast, with its log.
        self.wait_for(self.server_running, "the server to start", STARTUP_TIMEOUT)

        def ready():
            if not self.server_running():
                raise AssertionError(f"the server exited\n{self.server_log()}")
            st = self.server_status()
            if st and st.get("state") == "error":
                raise AssertionError(f"server failed to load its model: {st}")
            return st if st and st.get("state") == "ready" else None

        return self.wait_for(ready, "the server's model to load", READY_TIMEOUT)

    def wait_suggestion(self) -> str:
        return self.wait_for(self.suggestion, "a suggestion to show")

    def server_log(self) -> str:
        logs = sorted(self.log_dir.rglob("lsp.log"))
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in logs)


@pytest.fixture
def nvim_factory(tmp_path):
    """Starts Neovim on a Python file: `start(text, debounce_ms=..., tmux=...)`."""
    if not shutil.which(NVIM):
        pytest.skip(f"{NVIM} is not installed (apt-get install -y neovim)")
    started = []

    def start(text: str, *, debounce_ms: int = 50, settings: dict | None = None,
              tmux: bool = False) -> Nvim:
        work = tmp_path / f"work{len(started)}"
        work.mkdir()
        xdg = tmp_path / f"xdg{len(started)}"
        setup = {"cmd": SERVER_CMD, "debounce_ms": debounce_ms,
                 "settings": TEST_SETTINGS if settings is None else settings}
        init = work.parent / f"init{len(started)}.lua"
        init.write_text(INIT_LUA.replace("PLUGIN_DIR", lua_value(str(PLUGIN_DIR)))
                        .replace("SETUP", lua_value(setup)))
        (work / "file.py").write_text(text)
        sock = tmp_path / f"nvim{len(started)}.sock"
        env = dict(os.environ, XDG_CACHE_HOME=str(xdg / "cache"),
                   XDG_STATE_HOME=str(xdg / "state"), XDG_DATA_HOME=str(xdg / "data"),
                   XDG_CONFIG_HOME=str(xdg / "config"))
        argv = [NVIM, "--clean", "-u", str(init), "--listen", str(sock), "file.py"]
        tmux_socket = None
        if tmux:
            if not shutil.which("tmux"):
                pytest.skip("tmux is not installed (apt-get install -y tmux)")
            tmux_socket = f"sc2-nvim-test-{os.getpid()}-{len(started)}"
            env_args = [f"{k}={env[k]}" for k in ("XDG_CACHE_HOME", "XDG_STATE_HOME",
                                                  "XDG_DATA_HOME", "XDG_CONFIG_HOME")]
            subprocess.run(["tmux", "-L", tmux_socket, "new-session", "-d", "-s", "sc2",
                            "-x", "100", "-y", "20", "-c", str(work),
                            "env", *env_args, *argv], check=True, env=env)
            proc = None
        else:
            proc = subprocess.Popen([NVIM, "--headless", *argv[1:]], cwd=work, env=env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not sock.exists():
            if time.monotonic() > deadline:
                raise AssertionError("nvim did not open its --listen socket")
            time.sleep(0.05)
        api = pynvim.attach("socket", path=str(sock))
        nv = Nvim(api, work, xdg)
        nv.tmux_socket = tmux_socket
        started.append((nv, proc))
        return nv

    yield start

    for nv, proc in started:
        nv.api.command("qa!", async_=True)  # no reply: nvim exits
        if proc is not None:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if nv.tmux_socket:
            # Gone already when nvim's exit ended the only session.
            subprocess.run(["tmux", "-L", nv.tmux_socket, "kill-server"], check=False,
                           capture_output=True)
