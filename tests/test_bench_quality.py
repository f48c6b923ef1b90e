"""`sc2-lsp bench quality` end to end: a 3-task JSONL through every variant on random:tiny."""

from __future__ import annotations

import json
import subprocess
import sys

from sc2_lsp.bench.tasks import humaneval_multi_line, humaneval_single_line, write_jsonl
from sc2_lsp.bench.variants import VARIANTS


def test_three_tasks_end_to_end(tmp_path):
    tasks = humaneval_single_line()[:2] + humaneval_multi_line()[:1]
    path = tmp_path / "tasks.jsonl"
    write_jsonl(tasks, path)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sc2_lsp", "--log-level", "warning", "bench", "quality",
           "--tasks", str(path), "--model", "random:tiny", "--threads", "1",
           "--compare", ",".join(VARIANTS), "--out", str(out)]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads((out / "quality.json").read_text())
    assert data["model"] == "random:tiny" and data["tasks"] == str(path) and data["n"] == 3
    assert set(data["metrics"]) == {"exact_match", "edit_similarity", "pass_at_1"}
    assert set(data["by_kind"]) == {"single-line", "multi-line"}
    assert data["by_kind"]["single-line"]["n"] == 2
    assert [t["task_id"] for t in data["per_task"]] == [t.task_id for t in tasks]
    assert all(isinstance(t["passed"], bool) for t in data["per_task"])
    assert list(data["variants"]) == list(VARIANTS)
    for summary in data["variants"].values():
        assert summary["n"] == 3
        assert 0.0 <= summary["metrics"]["edit_similarity"] <= 1.0
        assert summary["mean_prompt_tokens"] > 0
    naive = [t["variants"]["naive"]["completion"] for t in data["per_task"]]
    assert all(isinstance(text, str) for text in naive)
    assert "| full |" in (out / "quality.md").read_text()
