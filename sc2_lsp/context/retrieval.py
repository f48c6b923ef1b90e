"""Cross-file context for the prompt: imported definitions, enclosing skeletons, recent edits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Snippet:
    """Code shown to the model under ``path`` (relative to the workspace)."""

    path: str
    text: str
