"""The pipeline with the embedded model: prompts stay within what it was trained on."""

from __future__ import annotations

from sc2_lsp.completion import CompletionPipeline
from sc2_lsp.config import Settings
from sc2_lsp.documents import DocumentStore
from sc2_lsp.engine import Engine, ModelSpec
from tests.conftest import REPO


def test_prompt_budget_is_capped_at_the_models_trained_context():
    store = DocumentStore()
    source = (REPO / "sc2_lsp" / "engine" / "loading.py").read_text()
    text = source[: source.index("\n", source.index("def load_model")) + 1] + "    "
    offset = len(text)  # 1,800+ tokens of prefix: the cursor opens load_model's body
    doc = store.open("file:///ws/loading.py", text, "python")
    pipeline = CompletionPipeline(Engine.load(ModelSpec()), Settings(context_tokens=2048), store)
    assert pipeline.budget_tokens == 512
    result = pipeline.complete(doc, offset)
    assert result.stats["source"] == "model" and result.stats["prompt_tokens"] <= 512


def test_a_single_line_after_indentation_does_not_repeat_it():
    from sc2_lsp.completion import without_doubled_indent
    assert without_doubled_indent("    return 1", "def f():\n    ") == "return 1"
    assert without_doubled_indent("  x", "a = (") == "  x"
    assert without_doubled_indent("  x\n    y", "def f():\n    ") == "x\n    y"
    assert without_doubled_indent("\n    y", "def f():\n") == "\n    y"
