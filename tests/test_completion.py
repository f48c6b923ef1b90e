"""The pipeline with the embedded model: prompts stay within what it was trained on."""

from __future__ import annotations

from sc2_lsp.completion import CompletionPipeline
from sc2_lsp.config import Settings
from sc2_lsp.documents import DocumentStore
from sc2_lsp.engine import LocalEngine, ModelSpec
from tests.conftest import REPO


def test_prompt_budget_is_capped_at_the_models_trained_context():
    store = DocumentStore()
    source = (REPO / "sc2_lsp" / "engine" / "loading.py").read_text()
    text = source[: source.index("\n", source.index("def load_model")) + 1] + "    "
    offset = len(text)  # 1,800+ tokens of prefix: the cursor opens load_model's body
    doc = store.open("file:///ws/loading.py", text, "python")
    pipeline = CompletionPipeline(LocalEngine.load(ModelSpec()), Settings(context_tokens=2048),
                                  store)
    assert pipeline.budget_tokens == 512
    result = pipeline.complete(doc, offset)
    assert result.stats["source"] == "model" and result.stats["prompt_tokens"] <= 512


def test_the_middle_opens_where_the_model_prefers_unless_set():
    """The embedded model's config asks for 3 lines in the middle; a setting overrides it."""
    store = DocumentStore()
    text = "def f(a):\n    b = a + 1\n    c = b * 2\n    d = c - 3\n    return "
    doc = store.open("file:///ws/f.py", text, "python")
    engine = LocalEngine.load(ModelSpec())
    for settings, middle in ((Settings(), "\n    b = a + 1\n    c = b * 2\n    d = c - 3"),
                             (Settings(middle_lines=0), "")):
        prompt = CompletionPipeline(engine, settings, store).prompt_for(doc, len(text), None)
        assert prompt.text.endswith(f"<fim_middle>{middle}\n    return")
        assert prompt.healed == " "


def test_a_single_line_after_indentation_does_not_repeat_it():
    from sc2_lsp.completion import without_doubled_indent
    assert without_doubled_indent("    return 1", "def f():\n    ") == "return 1"
    assert without_doubled_indent("  x", "a = (") == "  x"
    assert without_doubled_indent("  x\n    y", "def f():\n    ") == "x\n    y"
    assert without_doubled_indent("\n    y", "def f():\n") == "\n    y"
