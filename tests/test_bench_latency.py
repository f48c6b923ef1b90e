"""`sc2-lsp bench latency`: a typing replay through the real server yields records for every
variant; the typing sessions are built from real function bodies."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from sc2_lsp.bench.replay import Buffer
from sc2_lsp.bench.sessions import from_files, from_tasks, function_bodies
from sc2_lsp.bench.tasks import Task, write_jsonl

SAMPLE = textwrap.dedent('''\
    """A small module to type into."""


    def mean(values):
        """The arithmetic mean."""
        total = 0
        for value in values:
            total += value
        return total / len(values)


    def short(x):
        return x


    def clamp(x, low, high):
        if x < low:
            return low
        if x > high:
            return high
        return x
    ''')


def test_sessions_are_function_bodies(tmp_path):
    path = tmp_path / "sample.py"
    path.write_text(SAMPLE)
    sessions = function_bodies(path)
    assert [s.name for s in sessions] == ["sample.py:mean", "sample.py:clamp"]  # short: 1 line
    mean = sessions[0]
    assert mean.body == ("total = 0\n    for value in values:\n        total += value\n"
                         "    return total / len(values)")
    assert mean.head.endswith('"""The arithmetic mean."""\n    ')  # the docstring stays
    assert mean.head + mean.body + mean.tail == SAMPLE
    assert mean.keystroke(0) == "t"
    assert mean.keystroke(mean.body.index("\n")) == "\n    "  # Enter auto-indents
    assert [s.name for s in from_files(str(tmp_path / "*.py"), 1)] == ["sample.py:mean"]


def test_sessions_from_a_task_file_type_the_middle(tmp_path):
    (tmp_path / "repo").mkdir()
    task = Task("t1", "python", "pkg/mod.py", "def f():\n    ", "\n", "return 1",
                "single-line", workspace="repo")
    write_jsonl([task], tmp_path / "tasks.jsonl")
    (session,) = from_tasks(tmp_path / "tasks.jsonl", 5)
    assert (session.head, session.body, session.tail) == ("def f():\n    ", "return 1", "\n")
    assert session.workspace == (tmp_path / "repo").resolve()
    assert session.path == session.workspace / "pkg" / "mod.py"


def test_buffer_positions_are_utf16():
    buffer = Buffer("a = 'é😀'\nb", 8)
    assert buffer.position() == (0, 9)
    buffer.insert("\nc")
    assert buffer.position() == (1, 1)


def test_replay_yields_records_for_every_variant(tmp_path):
    path = tmp_path / "sample.py"
    path.write_text(SAMPLE)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sc2_lsp", "--log-level", "warning", "bench", "latency",
           "--files", str(path), "--sessions", "1", "--max-requests", "6",
           "--model", "random:tiny", "--threads", "1", "--out", str(out)]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads((out / "latency.json").read_text())
    assert set(data["variants"]) == {"full", "no-kv-reuse", "naive"}
    for name, summary in data["variants"].items():
        assert summary["requests"] == 6
        for key in ("p50_ms", "p90_ms", "p99_ms", "mean_prefilled_tokens", "mean_reused_tokens",
                    "cache_hit_rate", "typing_through_rate", "chars_saved_rate"):
            assert summary[key] is not None, (name, key)
        records = [r for r in data["records"] if r["variant"] == name]
        assert len(records) == 6
        assert all(r["source"] in ("model", "cache", "typing-through", "none") for r in records)
    assert data["variants"]["naive"]["mean_reused_tokens"] == 0
    assert data["variants"]["no-kv-reuse"]["mean_reused_tokens"] == 0
    assert set(data["ratios"]) == {"naive/full", "no-kv-reuse/full"}
    assert (out / "latency_cdf.png").stat().st_size > 0
    assert "| naive |" in (out / "latency.md").read_text()
