"""Draw model/loss.png from the training log model/loss.csv (written by train.py).

The model card shows this curve so a reader can judge how far training got:
the training loss (all tokens, smoothed) against tokens seen, and the
validation loss on held-out single-line FIM middles with and without the
suffix in the prompt — the gap between those two is the model using the
suffix.

    python model/plot_loss.py
"""

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent


def read_rows(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def smooth(values: list[float], weight: float = 0.6) -> list[float]:
    """Exponential moving average, so batch-to-batch noise does not hide the trend."""
    out, avg = [], values[0]
    for v in values:
        avg = weight * avg + (1 - weight) * v
        out.append(avg)
    return out


def plot(rows: list[dict], out: Path) -> None:
    tokens = [int(r["tokens"]) / 1e6 for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    ax.plot(tokens, [float(r["loss"]) for r in rows], color="#bbbbbb", lw=0.6,
            label="train (per batch)")
    ax.plot(tokens, smooth([float(r["loss"]) for r in rows]), color="#1f77b4",
            label="train (smoothed)")
    val = [r for r in rows if r.get("val_fim")]
    if val:
        vt = [int(r["tokens"]) / 1e6 for r in val]
        ax.plot(vt, [float(r["val_fim"]) for r in val], "o-", color="#2ca02c",
                label="holdout line middle, FIM with suffix")
        ax.plot(vt, [float(r["val_prefix_only"]) for r in val], "s--", color="#d62728",
                label="holdout line middle, prefix only")
    ax.set_xlabel("tokens seen (millions)")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title("sc2-mini training on CPython stdlib")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    plot(read_rows(HERE / "loss.csv"), HERE / "loss.png")
