"""The runtime bench on the embedded model: a row per quantization and prompt length,
greedy agreement against the unquantized model, the packed weights smaller."""

from __future__ import annotations

import json
import subprocess
import sys


def test_runtime_rows_for_every_quant_with_greedy_agreement(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sc2_lsp", "--log-level", "warning", "bench", "runtime",
           "--quant", "int4,none,int8-torch", "--prompt-tokens", "64,128", "--repeat", "1",
           "--threads", "1", "--out", str(out)]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "quantizing layer 6/6 to int4" in done.stderr  # load progress
    rows = json.loads((out / "runtime.json").read_text())["rows"]
    assert [(r["quant"], r["prompt_tokens"]) for r in rows] == [
        ("none", 64), ("int4", 64), ("int8-torch", 64),
        ("none", 128), ("int4", 128), ("int8-torch", 128)]
    for row in rows:
        assert row["cold_prefill_ms"] > 0 and row["decode_tok_s"] > 0
        assert 0.0 <= row["greedy_agreement"] <= 1.0
        assert row["load_avg"] >= 0
    none = [r for r in rows if r["quant"] == "none"]
    assert all(r["greedy_agreement"] == 1.0 for r in none)
    size = {r["quant"]: r["footprint_mb"] for r in rows}
    assert size["int4"] < size["int8-torch"] < size["none"]
