"""Writing bench results: JSON for tools, Markdown for people, progress on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

from tqdm import tqdm


def progress(iterable: Iterable, total: int | None = None, desc: str = "") -> tqdm:
    """A progress bar on stderr. Written to a log file too (a long bench run in the
    background is where progress matters most), there as an ASCII line every 10 s."""
    tty = sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, dynamic_ncols=tty,
                ascii=not tty, mininterval=0.1 if tty else 10.0)


def write_outputs(out_dir: str | Path, name: str, data: dict, markdown: str) -> Path:
    """DIR/<name>.json and DIR/<name>.md; returns the directory."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    (out / f"{name}.md").write_text(markdown)
    print(f"wrote {out / (name + '.json')} and {out / (name + '.md')}", file=sys.stderr)
    return out


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    """A Markdown table of `rows` restricted to `columns`, numbers rounded for reading."""
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"
        return "" if value is None else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"
