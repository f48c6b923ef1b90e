"""The allocator tuning a long-running server applies at start (glibc)."""

from __future__ import annotations

import platform

import pytest

from sc2_lsp import memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_glibc_takes_the_fixed_mmap_threshold_and_trims():
    assert memory.tune_allocator() is True
    memory.trim(memory.TRIM_EVERY)  # gives pages back; must not fail
