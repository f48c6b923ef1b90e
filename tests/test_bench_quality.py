"""`sc2-lsp bench quality` end to end on random:tiny, every variant, three tasks whose
pass@1 does not depend on what the model writes: one always passes (the completion lands in
a comment), one always fails (its test is false), one has no test; so every metric is exact."""

from __future__ import annotations

import json
import subprocess
import sys

from sc2_lsp.bench.metrics import edit_similarity, exact_match, mean
from sc2_lsp.bench.tasks import Task, write_jsonl
from sc2_lsp.bench.variants import VARIANTS

TASKS = [
    Task("comment/passes", "python", "a.py", "x = 1\n# ", "\n", "a note", "single-line",
         test="assert x == 1\n"),
    Task("comment/fails", "python", "b.py", "y = 2\n# ", "\n", "another note", "single-line",
         test="assert y == 3\n"),
    Task("body/untested", "python", "c.py", "def f():\n    ", "\n", "a = 1\n    return a",
         "multi-line"),
]


def test_three_tasks_end_to_end(tmp_path):
    path = tmp_path / "tasks.jsonl"
    write_jsonl(TASKS, path)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sc2_lsp", "--log-level", "warning", "bench", "quality",
           "--tasks", str(path), "--model", "random:tiny", "--threads", "1",
           "--compare", ",".join(VARIANTS), "--out", str(out)]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads((out / "quality.json").read_text())
    assert (data["model"], data["tasks"], data["n"], data["variant"]) == (
        "random:tiny", str(path), 3, "full")
    assert [t["task_id"] for t in data["per_task"]] == [t.task_id for t in TASKS]
    assert [t["passed"] for t in data["per_task"]] == [True, False, None]
    assert list(data["variants"]) == list(VARIANTS)
    for name, summary in data["variants"].items():
        texts = [t["completion"] if name == "full" else t["variants"][name]["completion"]
                 for t in data["per_task"]]
        similarity = [round(edit_similarity(t.kind, text, t.middle), 4)
                      for t, text in zip(TASKS, texts, strict=True)]
        assert summary["n"] == 3
        assert summary["metrics"] == {"exact_match": 0.0, "edit_similarity": mean(similarity),
                                      "pass_at_1": 0.5}, name
        assert not any(exact_match(t.kind, text, t.middle)
                       for t, text in zip(TASKS, texts, strict=True))
        assert summary["by_kind"] == {
            "multi-line": {"n": 1, "exact_match": 0.0, "edit_similarity": similarity[2],
                           "pass_at_1": None},
            "single-line": {"n": 2, "exact_match": 0.0, "edit_similarity": mean(similarity[:2]),
                            "pass_at_1": 0.5}}, name
    assert data["metrics"] == data["variants"]["full"]["metrics"]
    table = (out / "quality.md").read_text()
    assert [line.split(" | ")[0] for line in table.splitlines()[4:4 + len(VARIANTS)]] == [
        f"| {name}" for name in VARIANTS]
