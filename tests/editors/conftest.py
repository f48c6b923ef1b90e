"""The two-file project every editor test types into."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.editors.harness import GREETINGS, HEAD


@pytest.fixture
def workspace(tmp_path) -> Path:
    """A project of two files: the one edited imports from the other."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "greetings.py").write_text(GREETINGS)
    (root / "main.py").write_text(HEAD + "\n")
    return root
