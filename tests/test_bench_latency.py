"""`sc2-lsp bench latency`: a typing replay through the real server yields records for every
variant; the typing sessions are built from real function bodies."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from statistics import mean

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


SUMMARY_KEYS = {"requests", "model_calls", "p50_ms", "p90_ms", "p99_ms", "p50_model_ms",
                "mean_prompt_tokens", "mean_prefilled_tokens", "mean_reused_tokens",
                "mean_generated_tokens", "cache_hit_rate", "typing_through_rate",
                "no_completion_rate", "chars_saved_rate", "in_time_rate"}
RECORD_KEYS = {"variant", "session", "request", "keystroke_chars", "latency_ms", "pipeline_ms",
               "in_time", "suggested_chars", "accepted", "accepted_chars", "source", "mode",
               "stop_reason", "prompt_tokens", "reused_tokens", "prefilled_tokens",
               "generated_tokens"}


def test_replay_reuses_the_kv_cache_and_reports_exact_counts(tmp_path):
    path = tmp_path / "sample.py"
    path.write_text(SAMPLE)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sc2_lsp", "--log-level", "warning", "bench", "latency",
           "--files", str(path), "--sessions", "1", "--max-requests", "6",
           "--model", "random:tiny", "--threads", "1", "--out", str(out)]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads((out / "latency.json").read_text())
    assert sorted(data) == ["config", "ratios", "records", "sessions", "variants"]
    assert data["config"] == {"model": "random:tiny", "engine": "local", "endpoint": None,
                              "clients": None, "typing_ms": 120.0, "max_requests": 6,
                              "settings": {}}
    assert data["sessions"] == [{"name": "sample.py:mean", "path": str(path), "body_chars": 88}]
    records = {name: [r for r in data["records"] if r["variant"] == name]
               for name in ("full", "no-kv-reuse", "naive")}
    assert list(data["variants"]) == list(records)
    for name, rs in records.items():
        summary = data["variants"][name]
        assert set(summary) == SUMMARY_KEYS and all(set(r) == RECORD_KEYS for r in rs)
        assert [r["request"] for r in rs] == list(range(6))
        assert [r["keystroke_chars"] for r in rs] == [1] * 6  # "total = " typed key by key
        assert (summary["requests"], summary["model_calls"]) == (
            6, sum(r["source"] == "model" for r in rs))
        assert summary["mean_reused_tokens"] == round(mean(r["reused_tokens"] for r in rs), 2)
        for r in rs:
            assert r["prefilled_tokens"] == r["prompt_tokens"] - r["reused_tokens"]
    full, fresh = records["full"], records["no-kv-reuse"]
    # The bench's claim: with KV reuse, every model call after the first reuses >= 90% of
    # its prompt; without it, none; the suggestions are the same either way.
    calls = [r for r in full if r["source"] == "model"]
    assert calls[0]["request"] == 0 and calls[0]["reused_tokens"] == 0
    assert all(r["reused_tokens"] >= 0.9 * r["prompt_tokens"] for r in calls[1:]), calls
    assert len(calls) >= 3
    assert all(r["reused_tokens"] == 0 for r in fresh + records["naive"])
    same = ("source", "suggested_chars", "prompt_tokens", "generated_tokens", "accepted")
    assert [[r[k] for k in same] for r in full] == [[r[k] for k in same] for r in fresh]
    assert data["ratios"] == {
        f"{name}/full": {"p50_ms": round(data["variants"][name]["p50_ms"]
                                         / data["variants"]["full"]["p50_ms"], 3),
                         "mean_prefilled_tokens": round(
                             data["variants"][name]["mean_prefilled_tokens"]
                             / data["variants"]["full"]["mean_prefilled_tokens"], 3)}
        for name in ("naive", "no-kv-reuse")}
    assert (out / "latency_cdf.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (out / "latency.md").read_text()
    assert [line.split(" | ")[0] for line in table.splitlines() if line.startswith("| ")] == [
        "| variant", "| full", "| no-kv-reuse", "| naive", "| ratio", "| naive/full",
        "| no-kv-reuse/full"]
