"""Quality metrics of one completion against its gold text (docs/architecture.md, benches).

Both metrics compare *normalised* text, so indentation the prefix already holds and
trailing whitespace never count: a single-line task is judged on the first line of the
completion, a multi-line task on its non-empty lines, each stripped.
"""

from __future__ import annotations

import numpy as np
from rapidfuzz.distance import Levenshtein

SINGLE_LINE = "single-line"


def answer(kind: str, completion: str) -> str:
    """What the task judges of a completion: its first line for single-line tasks, else all."""
    return completion.split("\n", 1)[0] if kind == SINGLE_LINE else completion


def normalise(kind: str, text: str) -> str:
    if kind == SINGLE_LINE:
        return answer(kind, text).strip()
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def exact_match(kind: str, completion: str, gold: str) -> bool:
    return normalise(kind, completion) == normalise(kind, gold)


def edit_similarity(kind: str, completion: str, gold: str) -> float:
    """1 − Levenshtein / max length, on the normalised texts (1.0 when both are empty);
    rapidfuzz computes it in C++, not in an O(nm) Python loop."""
    return Levenshtein.normalized_similarity(normalise(kind, completion), normalise(kind, gold))


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (linear interpolation), ms rounded to µs; None without values."""
    return round(float(np.percentile(values, q)), 3) if values else None
