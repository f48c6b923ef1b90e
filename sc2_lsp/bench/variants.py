"""The quality bench's variants: the product pipeline with one part switched off, or naive.

Every variant answers a task with (completion text, stats). Pipeline variants go through
exactly what the server runs (cache, mode, context, prompt, engine, post-processing); each
task starts from a clean per-document state, so no task profits from the one before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from ..completion import CompletionPipeline
from ..config import Settings
from ..documents import DocumentStore
from ..engine import Engine
from .naive import NaiveCompleter
from .tasks import Task

VARIANTS = {
    "full": "the pipeline's defaults",
    "no-context": "no cross-file snippets",
    "no-postprocess": "raw model text",
    "no-healing": "prompt cut exactly at the cursor",
    "prefix-only": "the suffix left out of the prompt (post-processing still sees it)",
    "naive": "model.generate on a file-level FIM prompt, first line for single-line tasks",
}
SWITCHES = {"no-context": {"context": False}, "no-postprocess": {"postprocess": False},
            "no-healing": {"token_healing": False}, "prefix-only": {"suffix_fraction": 0.0}}

Completer = Callable[[Task], tuple[str, dict]]


def parse_variants(text: str) -> list[str]:
    """Variant names from a comma-separated list, checked before any model is loaded."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown or not names:
        raise ValueError(f"unknown variant(s) {unknown} (choose from {', '.join(VARIANTS)})")
    return names


def completer(name: str, engine: Engine, settings: Settings) -> Completer:
    if name == "naive":
        naive = NaiveCompleter(engine, settings)
        return lambda task: naive.complete(task.prefix, task.suffix)
    variant_settings = dataclasses.replace(settings, **SWITCHES.get(name, {}))
    pipeline = CompletionPipeline(engine, variant_settings, DocumentStore())
    return lambda task: _through_pipeline(pipeline, task)


def _through_pipeline(pipeline: CompletionPipeline, task: Task) -> tuple[str, dict]:
    """Open the task's file (prefix + suffix) in its workspace and complete at the cut."""
    workspace = Path(task.workspace) if task.workspace else None
    uri = task.file.as_uri()
    pipeline.forget(uri)
    doc = pipeline.store.open(uri, task.prefix + task.suffix, task.language)
    result = pipeline.complete(doc, len(task.prefix), workspace=workspace)
    pipeline.store.close(uri)
    return result.text, result.stats
