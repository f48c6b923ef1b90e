"""Real editors, configured as docs/editors.md says, with no plugin of ours.

Each test types an identifier prefix in a two-file workspace, triggers the
editor's own completion and checks the buffer holds the typed word plus the
suggestion the server answers for that document and position (the embedded
model, greedy: a replay in a scripted session gives the same text). Then it
quits the editor and checks the server process is gone. Every wait has a
timeout; on failure the editor and the server are killed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from sc2_lsp.bench.lsp_client import EditorSession

# What the tests type and what the buffer then holds before completion.
HEAD = "from greetings import add_numbers, greet\n\n"
TYPED = "x = gre"
GREETINGS = ('def greet(name):\n    return "Hello, " + name\n\n\n'
             "def add_numbers(a, b):\n    return a + b\n")
# No deadline may cut a generation on a busy machine: the answer stays the model's.
OPTIONS = {"deadlineMs": 600_000}
STARTUP_TIMEOUT = 240.0  # python + torch imports on a loaded 2-core machine
EXIT_TIMEOUT = 30.0


def server_command(log: Path) -> list[str]:
    """The server as editors start it; its log path is unique, so it names the process."""
    return [sys.executable, "-m", "sc2_lsp", "--log-file", str(log), "serve"]


def server_pids(log: Path) -> list[int]:
    """Live processes started with `log` on their command line (zombies have exited)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if str(log).encode() in (proc / "cmdline").read_bytes() and \
                    "\nState:\tZ" not in (proc / "status").read_text():
                pids.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return pids


def wait_for(predicate, what: str, timeout: float, describe=lambda: ""):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{describe()}")
        time.sleep(0.1)
    return value


def kill(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def server_answer(root: Path, text: str, line: int, character: int, options: dict = OPTIONS,
                  name: str = "main.py", language_id: str = "python") -> str:
    """What the server suggests for `root/name` holding `text`, in a fresh scripted
    session with the editor's settings: the reference the editor's buffer is held to."""
    async def ask() -> str:
        session = EditorSession()
        await session.start(root, options)
        try:
            assert (await session.wait_ready(STARTUP_TIMEOUT))["state"] == "ready"
            uri = session.open(root / name, text, language_id)
            items, _ = await session.inline(uri, line, character)
            return items[0].insert_text if items else ""
        finally:
            await session.stop()

    return asyncio.run(asyncio.wait_for(ask(), STARTUP_TIMEOUT + 60))


def log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no server log)"


DOCS = Path(__file__).resolve().parents[2] / "docs" / "editors.md"


def doc_config(name: str, replacements: dict[str, str]) -> str:
    """The config docs/editors.md marks `<!-- tested: name -->`, with the test's own
    server command and settings swapped in (each must be found exactly once)."""
    text = DOCS.read_text()
    marker = f"<!-- tested: {name} -->\n```"
    start = text.index(marker) + len(marker)
    body = text[text.index("\n", start) + 1:text.index("\n```", start)] + "\n"
    for old, new in replacements.items():
        assert body.count(old) == 1, f"{old!r} not once in the {name} config"
        body = body.replace(old, new)
    return body
