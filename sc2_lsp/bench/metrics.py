"""Quality metrics of one completion against its gold text (DESIGN.md §3, metrics).

Both metrics compare *normalised* text, so indentation the prefix already holds and
trailing whitespace never count: a single-line task is judged on the first line of the
completion, a multi-line task on its non-empty lines, each stripped.
"""

from __future__ import annotations

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
    """1 − Levenshtein / max length, on the normalised texts (1.0 when both are empty)."""
    a, b = normalise(kind, completion), normalise(kind, gold)
    longest = max(len(a), len(b))
    return 1.0 if longest == 0 else 1.0 - levenshtein(a, b) / longest


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute), two rows of the classic table."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
