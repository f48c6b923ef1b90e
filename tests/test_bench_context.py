"""`bench context`: the prompt of a task as the pipeline builds it, and what it needs."""

from __future__ import annotations

import json
from pathlib import Path

from sc2_lsp.bench.context import measure, render
from sc2_lsp.bench.tasks import read_jsonl
from sc2_lsp.completion import CompletionPipeline
from sc2_lsp.config import Settings
from sc2_lsp.documents import DocumentStore
from sc2_lsp.engine.local import LocalEngine

TASKS = Path(__file__).resolve().parent / "fixtures/context_tasks/tasks.jsonl"


def test_context_json_of_the_parse_header_task(tiny_loaded):
    pipeline = CompletionPipeline(LocalEngine(tiny_loaded), Settings(context_tokens=2048),
                                  DocumentStore())
    data = json.loads(json.dumps(measure(pipeline, read_jsonl(TASKS), "tasks.jsonl")))
    need = {"name": "parse_header", "path": "util.py", "line": 3, "where": "cross-file"}
    assert data["n"] == 1 and data["tasks"] == "tasks.jsonl"
    task = data["per_task"][0]
    assert task["task_id"] == "ws_parse/app.py/L11"
    assert task["needed"] == [need] and task["found"] == [need]
    assert task["snippets"][0]["path"] == "util.py"
    assert task["snippets"][0]["text"].startswith("def parse_header(line: str)")
    assert task["prompt"].startswith("<repo_name>ws_parse<file_sep>util.py\n")
    assert task["context_tokens"] == 50
    assert data["metrics"] == {
        "recall_all": 1.0, "needed_all": 1, "found_all": 1,
        "recall_cross_file": 1.0, "needed_cross_file": 1, "found_cross_file": 1,
        "recall_same_file": None, "needed_same_file": 0, "found_same_file": 0,
        "tasks_with_needs": 1, "context_tokens_mean": 50.0, "context_tokens_max": 50,
        "context_tokens_allowed_mean": float(task["context_allowed"]),
        "context_over_allowed": 0, "budget_tokens": 2048,
        "prompt_tokens_max": task["prompt_tokens"], "over_budget": 0}
    assert "| cross-file | 1 | 1 | 1 |" in render(data)
