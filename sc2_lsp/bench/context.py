"""Context bench: the prompt of every task as the server builds it, and context recall.

Each task's file (prefix + suffix) is opened in its workspace and its prompt built by the
completion pipeline itself (no model call). The gold middle's *needs* (identifiers defined
outside the prompt window, see ``needs``) are compared with the definitions the prompt's
context snippets show: recall over all needs, cross-file ones and same-file ones, and the
context tokens used against the budget.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..completion import CompletionPipeline
from ..documents import DocumentStore
from ..engine import open_engine
from ..prompt import Prompt
from .metrics import mean
from .needs import CROSS_FILE, SAME_FILE, NeedFinder, found_needs
from .options import add_settings_option, bench_settings
from .report import markdown_table, progress, write_outputs
from .tasks import BUILT_IN, Task, load_tasks

COLUMNS = ["needs", "needed", "found", "recall"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tasks", required=True,
                        help=f"{' | '.join(BUILT_IN)} | PATH.jsonl (task file)")
    parser.add_argument("--limit", type=int, default=None, help="first N tasks only")
    parser.add_argument("--context-tokens", type=int, default=None,
                        help="prompt budget in tokens (default: the contextTokens setting)")
    add_settings_option(parser)


def run(args: argparse.Namespace) -> int:
    tasks = load_tasks(args.tasks, args.limit)
    if not tasks:
        raise ValueError(f"no tasks in {args.tasks}")
    settings = bench_settings(args)
    pipeline = CompletionPipeline(open_engine(settings.model_spec()), settings, DocumentStore())
    data = measure(pipeline, tasks, args.tasks)
    markdown = render(data)
    write_outputs(args.out, "context", data, markdown)
    print(markdown)
    return 0


def measure(pipeline: CompletionPipeline, tasks: list[Task], name: str) -> dict:
    finders: dict[Path, NeedFinder] = {}
    per_task = []
    for task in progress(tasks, desc="context"):
        workspace = Path(task.workspace) if task.workspace else None
        prompt = prompt_of(pipeline, task, workspace)
        root = workspace or task.file.parent
        if root not in finders:
            finders[root] = NeedFinder(root, [root, *[d for d in [root / "src"] if d.is_dir()]])
        finder = finders[root]
        needed = finder.needs(task.file, task.prefix, task.middle, task.suffix,
                              window(task, prompt)) if task.language == "python" else []
        found = found_needs(needed, prompt.snippets)
        per_task.append({
            "task_id": task.task_id, "prompt": prompt.text,
            "snippets": [{"path": s.path, "text": s.text} for s in prompt.snippets],
            "context_tokens": prompt.context_tokens, "context_allowed": prompt.context_allowed,
            "prompt_tokens": len(prompt.token_ids),
            "needed": [n.to_json() for n in needed], "found": [n.to_json() for n in found]})
    return {"tasks": name, "n": len(per_task),
            "metrics": metrics(per_task, pipeline.budget_tokens), "per_task": per_task}


def prompt_of(pipeline: CompletionPipeline, task: Task, workspace: Path | None) -> Prompt:
    """The prompt the server builds for the task's cursor, from a fresh per-document state."""
    uri = task.file.as_uri()
    pipeline.forget(uri)
    doc = pipeline.store.open(uri, task.prefix + task.suffix, task.language)
    try:
        return pipeline.prompt_for(doc, len(task.prefix), workspace)
    finally:
        pipeline.store.close(uri)
        pipeline.forget(uri)


def window(task: Task, prompt: Prompt) -> tuple[int, int]:
    """First and last line of the gold file (prefix + middle + suffix) the prompt shows."""
    end_line = (task.prefix + task.middle).count("\n")
    shown = task.suffix[:prompt.suffix_chars]
    return prompt.prefix_start_line, end_line + shown[:-1].count("\n") if shown else end_line


def metrics(per_task: list[dict], budget: int) -> dict:
    needs = [n for t in per_task for n in t["needed"]]
    found = [n for t in per_task for n in t["found"]]
    context = [t["context_tokens"] for t in per_task]
    result = {}
    for label, where in (("all", None), (CROSS_FILE, CROSS_FILE), (SAME_FILE, SAME_FILE)):
        n_needed = sum(1 for n in needs if where in (None, n["where"]))
        n_found = sum(1 for n in found if where in (None, n["where"]))
        result[f"recall_{label.replace('-', '_')}"] = (
            round(n_found / n_needed, 4) if n_needed else None)
        result[f"needed_{label.replace('-', '_')}"] = n_needed
        result[f"found_{label.replace('-', '_')}"] = n_found
    result["tasks_with_needs"] = sum(1 for t in per_task if t["needed"])
    result["context_tokens_mean"] = round(mean(context), 2) if context else None
    result["context_tokens_max"] = max(context, default=None)
    result["context_tokens_allowed_mean"] = round(mean(
        [t["context_allowed"] for t in per_task]), 2) if per_task else None
    result["context_over_allowed"] = sum(1 for t in per_task
                                         if t["context_tokens"] > t["context_allowed"])
    result["budget_tokens"] = budget
    result["prompt_tokens_max"] = max((t["prompt_tokens"] for t in per_task), default=None)
    result["over_budget"] = sum(1 for t in per_task if t["prompt_tokens"] > budget)
    return result


def render(data: dict) -> str:
    m = data["metrics"]
    rows = [{"needs": label, "needed": m[f"needed_{key}"], "found": m[f"found_{key}"],
             "recall": m[f"recall_{key}"]}
            for label, key in (("all", "all"), (CROSS_FILE, "cross_file"),
                               (SAME_FILE, "same_file"))]
    missed = [{"task_id": t["task_id"], "missed": ", ".join(
        sorted({f"{n['name']} ({n['path']}:{n['line'] + 1})" for n in _missed(t)}))}
        for t in data["per_task"] if _missed(t)]
    return (f"# Context bench: {data['tasks']} ({data['n']} tasks, "
            f"{m['tasks_with_needs']} with needs)\n\n" + markdown_table(rows, COLUMNS)
            + f"\nContext tokens: mean {m['context_tokens_mean']}, max "
              f"{m['context_tokens_max']} (allowed: mean {m['context_tokens_allowed_mean']}, "
              f"{m['context_over_allowed']} prompts over); {m['budget_tokens']}-token budget, "
              f"longest prompt {m['prompt_tokens_max']} tokens, {m['over_budget']} over it."
              "\n\n## Missed needs\n\n"
            + markdown_table(missed, ["task_id", "missed"]))


def _missed(task: dict) -> list[dict]:
    return [n for n in task["needed"] if n not in task["found"]]
