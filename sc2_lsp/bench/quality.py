"""Quality bench: exact match, edit similarity and pass@1 on FIM task sets, per variant.

The first variant of ``--compare`` fills the contract's top-level keys
(docs/architecture.md, benches); every variant, the first included, is summarised under
``variants`` so that one run
shows what context, post-processing, token healing and the suffix are each worth.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from ..engine import open_engine
from .metrics import answer, edit_similarity, exact_match, mean
from .options import add_settings_option, bench_settings
from .report import markdown_table, progress, write_outputs
from .sandbox import TIMEOUT_S, backend, run_program
from .tasks import BUILT_IN, Task, load_tasks
from .variants import VARIANTS, completer, parse_variants

COLUMNS = ["variant", "n", "exact_match", "edit_similarity", "pass_at_1", "mean_latency_ms",
           "mean_prompt_tokens", "mean_generated_tokens"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tasks", required=True,
                        help=f"{' | '.join(BUILT_IN)} | PATH.jsonl "
                             "(task file: docs/architecture.md)")
    parser.add_argument("--limit", type=int, default=None, help="first N tasks only")
    parser.add_argument("--compare", default="full",
                        help=f"comma-separated variants: {', '.join(VARIANTS)}")
    add_settings_option(parser)
    parser.add_argument("--test-timeout", type=float, default=TIMEOUT_S,
                        help="seconds per pass@1 test run")


def run(args: argparse.Namespace) -> int:
    names = parse_variants(args.compare)
    tasks = load_tasks(args.tasks, args.limit)
    if not tasks:
        raise ValueError(f"no tasks in {args.tasks}")
    if any(task.test is not None for task in tasks):
        backend()  # SandboxUnavailable (one message) before any model is loaded
    settings = bench_settings(args)
    engine = open_engine(settings.model_spec())
    pass_at_1 = PassAtOne(args.test_timeout)
    records = {name: evaluate(name, completer(name, engine, settings), tasks, pass_at_1)
               for name in names}
    data = report(engine.describe()["model"], args.tasks, records)
    data["settings"] = args.settings
    markdown = render(data)
    write_outputs(args.out, "quality", data, markdown)
    print(markdown)
    return 0


class PassAtOne:
    """pass@1 by execution, memoised: the same program (e.g. the gold one) runs once."""

    def __init__(self, timeout_s: float):
        self.timeout_s = timeout_s
        self._outcomes: dict[str, bool] = {}

    def passed(self, task: Task, completion: str) -> bool | None:
        if task.test is None:
            return None
        program = f"{task.prefix}{completion}{task.suffix}\n\n{task.test}"
        if program not in self._outcomes:
            self._outcomes[program] = run_program(program, self.timeout_s).passed
        return self._outcomes[program]


def evaluate(name: str, complete, tasks: list[Task], pass_at_1: PassAtOne) -> list[dict]:
    records = []
    for task in progress(tasks, desc=f"quality {name}"):
        text, stats = complete(task)
        judged = answer(task.kind, text)
        records.append({
            "task_id": task.task_id, "kind": task.kind, "completion": text,
            "exact_match": exact_match(task.kind, text, task.middle),
            "edit_similarity": round(edit_similarity(task.kind, text, task.middle), 4),
            "passed": pass_at_1.passed(task, judged),
            "latency_ms": stats.get("total_ms"), "prompt_tokens": stats.get("prompt_tokens"),
            "generated_tokens": stats.get("generated_tokens"), "source": stats.get("source"),
        })
    return records


def summarise(records: list[dict]) -> dict:
    tested = [r["passed"] for r in records if r["passed"] is not None]
    return {"exact_match": mean([r["exact_match"] for r in records]),
            "edit_similarity": mean([r["edit_similarity"] for r in records]),
            "pass_at_1": mean(tested)}


def by_kind(records: list[dict]) -> dict:
    groups = defaultdict(list)
    for record in records:
        groups[record["kind"]].append(record)
    return {kind: {"n": len(rs), **summarise(rs)} for kind, rs in sorted(groups.items())}


def variant_summary(records: list[dict]) -> dict:
    return {"n": len(records), "metrics": summarise(records), "by_kind": by_kind(records),
            "mean_latency_ms": _mean_of(records, "latency_ms"),
            "mean_prompt_tokens": _mean_of(records, "prompt_tokens"),
            "mean_generated_tokens": _mean_of(records, "generated_tokens")}


def report(model: str, tasks: str, records: dict[str, list[dict]]) -> dict:
    first, *others = records
    per_task = [dict(r) for r in records[first]]
    for i, record in enumerate(per_task):
        record["variants"] = {name: {k: records[name][i][k] for k in
                                     ("completion", "exact_match", "edit_similarity", "passed")}
                              for name in others}
    return {"model": model, "tasks": tasks, "n": len(per_task), "variant": first,
            "metrics": summarise(records[first]), "by_kind": by_kind(records[first]),
            "per_task": per_task,
            "variants": {name: variant_summary(rs) for name, rs in records.items()}}


def render(data: dict) -> str:
    rows, kind_rows = [], []
    for name, summary in data["variants"].items():
        rows.append({"variant": name, "n": summary["n"], **summary["metrics"],
                     **{k: summary[k] for k in COLUMNS[5:]}})
        kind_rows += [{"variant": name, "kind": kind, **values}
                      for kind, values in summary["by_kind"].items()]
    kind_columns = ["variant", "kind", "n", "exact_match", "edit_similarity", "pass_at_1"]
    return (f"# Quality bench: {data['tasks']} ({data['n']} tasks, model {data['model']})\n\n"
            + markdown_table(rows, COLUMNS) + "\n## By kind\n\n"
            + markdown_table(kind_rows, kind_columns))


def _mean_of(records: list[dict], key: str) -> float | None:
    values = [r[key] for r in records if r[key] is not None]
    result = mean(values)
    return None if result is None else round(result, 2)

