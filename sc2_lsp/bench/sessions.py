"""Typing sessions for the latency bench: function bodies in real files, to be typed back.

A session is a file with one function body deleted (the docstring stays: it is what a
user has written before the code) and the keystrokes that type the body back. A newline
and the indentation after it are one keystroke, as an editor's auto-indent makes them.
"""

from __future__ import annotations

import ast
import glob
from dataclasses import dataclass
from pathlib import Path

from .tasks import is_docstring, read_jsonl

MIN_BODY_LINES, MAX_BODY_LINES = 3, 40


@dataclass
class TypingSession:
    name: str
    path: Path
    head: str  # the file up to the cursor where typing starts
    body: str  # the text to type
    tail: str  # the file after the body
    workspace: Path  # the folder the server is given as its workspace

    def keystroke(self, at: int) -> str:
        """The text one keystroke types when `at` characters of the body are in."""
        end = at + 1
        if self.body[at] == "\n":
            while end < len(self.body) and self.body[end] in " \t":
                end += 1
        return self.body[at:end]


def from_files(pattern: str, count: int) -> list[TypingSession]:
    """`count` function bodies spread evenly over the candidates of the matching files."""
    paths = sorted(Path(p).resolve() for p in glob.glob(pattern, recursive=True)
                   if p.endswith(".py"))
    if not paths:
        raise FileNotFoundError(f"no Python files match {pattern!r}")
    candidates = [session for path in paths for session in function_bodies(path)]
    if not candidates:
        raise ValueError(f"no function of {MIN_BODY_LINES}-{MAX_BODY_LINES} lines in {pattern}")
    step = len(candidates) / min(count, len(candidates))
    return [candidates[int(i * step)] for i in range(min(count, len(candidates)))]


def from_tasks(path: Path, count: int) -> list[TypingSession]:
    """The first `count` tasks of a task file, their middles typed into prefix + suffix."""
    return [TypingSession(t.task_id, t.file, t.prefix, t.middle, t.suffix,
                          Path(t.workspace) if t.workspace else t.file.parent)
            for t in read_jsonl(path)[:count]]


def function_bodies(path: Path) -> list[TypingSession]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    sessions = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body[1:] if is_docstring(node.body[0]) else node.body
        if not body or not MIN_BODY_LINES <= body[-1].end_lineno - body[0].lineno + 1 \
                <= MAX_BODY_LINES:
            continue
        first = body[0].lineno - 1
        start = starts[first] + len(lines[first]) - len(lines[first].lstrip())
        end = starts[body[-1].end_lineno - 1] + len(lines[body[-1].end_lineno - 1].rstrip())
        sessions.append(TypingSession(f"{path.name}:{node.name}", path, source[:start],
                                      source[start:end], source[end:], path.parent))
    return sorted(sessions, key=lambda s: len(s.head))
