"""What context hands the prompt: a snippet of code under a workspace-relative path.

A leaf module (it imports nothing of the package): retrieval makes snippets, the prompt
lays them out, the pipeline keys its cache on their origins, and all of them name a file
by the same ``relative_path``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Snippet:
    """Code shown to the model under ``path`` (relative to the workspace).

    ``parts`` (a head, parts such as members' stubs that may be dropped one by one, a
    tail) make the snippet trimmable to a budget; ``priority`` ranks it (lower first) for
    the budget; ``origin`` is the identity of what it was read from: its path and that
    file's version.
    """

    path: str
    text: str
    parts: tuple[str, tuple[str, ...], str] | None = field(default=None, compare=False,
                                                           repr=False)
    priority: int = field(default=0, compare=False, repr=False)
    origin: tuple = field(default=(), compare=False, repr=False)

    def trimmed(self, keep: list[int]) -> Snippet:
        """The head, the droppable parts numbered ``keep`` (in order) and the tail."""
        head, parts, tail = self.parts
        text = "\n".join([*([head] if head else []), *(parts[i] for i in sorted(keep)),
                          *([tail] if tail else [])])
        return Snippet(self.path, text, None, self.priority, self.origin)


def relative_path(path: Path, root: Path | None) -> str:
    """``path`` relative to the workspace, in POSIX form; its name when outside it."""
    if root is not None:
        rel = os.path.relpath(path, root)
        if not rel.startswith(".."):
            return Path(rel).as_posix()
    return path.name
