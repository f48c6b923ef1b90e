"""`sc2-lsp bench soak`: a short typing replay through the real server reports answered and
failed requests, latency and the server's RSS every `--every` keys, with a plot."""

from __future__ import annotations

import json
import subprocess
import sys


def test_a_short_soak_answers_every_key_and_samples_rss(tmp_path):
    out = tmp_path / "soak"
    done = subprocess.run(
        [sys.executable, "-m", "sc2_lsp", "bench", "soak", "--model", "random:tiny",
         "--keys", "45", "--every", "20", "--warmup-keys", "20", "--doc-chars", "30",
         "--out", str(out)], check=False, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    data = json.loads((out / "soak.json").read_text())
    assert (data["keys"], data["answered"], data["failed"]) == (45, 45, 0)
    assert [s["keys"] for s in data["samples"]] == [0, 20, 40, 45]
    assert [s["answered"] for s in data["samples"]] == [0, 20, 40, 45]
    assert all(s["rss_mb"] > 0 for s in data["samples"])
    assert data["rss_growth_after_warmup_mb"] == round(
        data["samples"][-1]["rss_mb"] - data["samples"][1]["rss_mb"], 2)
    assert data["p50_ms"] <= data["p99_ms"]
    assert (out / "soak_rss.png").stat().st_size > 0
    assert "45 answered, 0 failed" in (out / "soak.md").read_text()
    assert "soak keys" in done.stderr  # the progress bar
