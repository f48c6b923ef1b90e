"""Prompt builder: exact StarCoder2 FIM formats, token budgets, sticky windows, token healing."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from sc2_lsp.context.retrieval import Snippet
from sc2_lsp.prompt import PromptBuilder

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = (ROOT / "tests/fixtures/prompt/textwrap_sample.py").read_text()
UTIL = Snippet("util.py", 'def parse_header(line: str) -> tuple[str, str]:\n    """Split."""\n')
PREFIX = "import os\n\ndef main():\n    x = pars"
SUFFIX = ")\n    return x\n"


@pytest.fixture(scope="module")
def tok():
    return AutoTokenizer.from_pretrained(ROOT / "model/sc2-mini")


def ids(tok, text: str) -> list[int]:
    return tok(text, add_special_tokens=False)["input_ids"]


def shared(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def test_repo_level_psm_exact(tok):
    prompt = PromptBuilder(tok).build(repo_name="ws", path="app.py", prefix=PREFIX,
                                      suffix=SUFFIX, snippets=[UTIL])
    assert prompt.text == (
        '<repo_name>ws<file_sep>util.py\ndef parse_header(line: str) -> tuple[str, str]:\n'
        '    """Split."""\n<file_sep><fim_prefix>app.py\nimport os\n\ndef main():\n    x ='
        "<fim_suffix>)\n    return x\n<fim_middle>")
    assert prompt.healed == " pars"
    assert prompt.token_ids == ids(tok, prompt.text)
    assert (prompt.context_tokens, prompt.prefix_tokens, prompt.suffix_tokens) == (28, 14, 5)
    assert len(prompt.token_ids) == 28 + 14 + 5 + 4
    assert prompt.prefix_start_line == 0
    assert prompt.snippets == (UTIL,)


def test_file_level_psm_exact_without_healing(tok):
    prompt = PromptBuilder(tok, fmt="file", heal=False).build(
        repo_name="ws", path="app.py", prefix=PREFIX, suffix=SUFFIX, snippets=[UTIL])
    assert prompt.text == f"<fim_prefix>{PREFIX}<fim_suffix>{SUFFIX}<fim_middle>"
    assert prompt.healed == ""
    assert prompt.token_ids == ids(tok, prompt.text)
    assert prompt.context_tokens == 0


def test_spm_puts_the_prefix_last(tok):
    prompt = PromptBuilder(tok, fmt="spm").build(repo_name=None, path="app.py", prefix=PREFIX,
                                                 suffix=SUFFIX, snippets=[])
    assert prompt.text == ("<file_sep><fim_prefix><fim_suffix>)\n    return x\n<fim_middle>"
                           "app.py\nimport os\n\ndef main():\n    x =")
    assert prompt.healed == " pars"


def test_special_token_strings_in_code_stay_plain_text(tok):
    prompt = PromptBuilder(tok, fmt="file").build(
        repo_name=None, path=None, prefix='s = "<file_sep>"\n', suffix="", snippets=[])
    assert prompt.token_ids.count(tok.convert_tokens_to_ids("<file_sep>")) == 0
    assert prompt.token_ids[0] == tok.convert_tokens_to_ids("<fim_prefix>")


@pytest.mark.parametrize(
    ("prefix", "healed"),
    [("def f(x):\n    ", "\n    "), ("x = foo", " foo"), ("x = foo(", "("), ("x = 1\n", "\n"),
     ("s = 'é😀", "😀"), ("y = 12", "2")],
)
def test_token_healing_cuts_at_the_last_pre_token(tok, prefix, healed):
    prompt = PromptBuilder(tok, fmt="file").build(repo_name=None, path=None, prefix=prefix,
                                                  suffix="", snippets=[])
    assert prompt.healed == healed
    assert prompt.text == f"<fim_prefix>{prefix[:len(prefix) - len(healed)]}<fim_suffix><fim_middle>"


def test_healing_never_eats_the_path_line(tok):
    prompt = PromptBuilder(tok).build(repo_name=None, path="a.py", prefix="", suffix="x\n",
                                      snippets=[])
    assert prompt.healed == ""
    assert prompt.text == "<file_sep><fim_prefix>a.py\n<fim_suffix>x\n<fim_middle>"


@pytest.mark.parametrize("budget", [8, 16, 64, 200, 512, 1000, 2048, 4096])
def test_budget_is_honoured_to_the_token_and_windows_cut_at_lines(tok, budget):
    at = SAMPLE.index("def dedent(text):")
    snippets = [UTIL, Snippet("b.py", "def helper(a, b):\n    return a + b\n")]
    prompt = PromptBuilder(tok, budget_tokens=budget).build(
        repo_name="ws", path="textwrap.py", prefix=SAMPLE[:at], suffix=SAMPLE[at:],
        snippets=snippets)
    assert len(prompt.token_ids) <= budget
    assert prompt.token_ids == ids(tok, prompt.text)
    assert prompt.suffix_tokens <= budget // 4
    assert prompt.context_tokens <= budget // 4
    lead = "<fim_prefix>textwrap.py\n" if budget > 8 else "<fim_prefix>"  # 8: file-level
    window = prompt.text.split(lead)[1].split("<fim_suffix>")[0]
    shown = window + prompt.healed
    assert SAMPLE[:at].endswith(shown)
    assert SAMPLE[:at][-len(shown) - 1] == "\n"  # the window starts at a line start
    suffix = prompt.text.split("<fim_suffix>")[1].removesuffix("<fim_middle>")
    assert SAMPLE[at:].startswith(suffix)
    assert suffix.endswith("\n") or budget <= 16  # tiny budgets cut inside the first line


def test_budget_exact_counts(tok):
    at = SAMPLE.index("def dedent(text):")
    prompt = PromptBuilder(tok, budget_tokens=1000).build(
        repo_name="ws", path="textwrap.py", prefix=SAMPLE[:at], suffix=SAMPLE[at:],
        snippets=[UTIL])
    assert (len(prompt.token_ids), prompt.context_tokens, prompt.prefix_tokens,
            prompt.suffix_tokens, prompt.prefix_start_line) == (737, 28, 468, 237, 376)


def test_snippets_already_visible_in_the_window_are_dropped(tok):
    visible = Snippet("app.py", "def main():\n")
    prompt = PromptBuilder(tok).build(repo_name="ws", path="app.py", prefix=PREFIX,
                                      suffix=SUFFIX, snippets=[visible, UTIL])
    assert prompt.snippets == (UTIL,)
    assert "<file_sep>app.py\ndef main" not in prompt.text


def test_typing_20_characters_shares_every_token_up_to_the_cursor(tok):
    at = SAMPLE.index("def dedent(text):")
    body = SAMPLE.index("\n", at) + 1
    typed = "    # normalize tabs"
    assert len(typed) == 20
    builder = PromptBuilder(tok, budget_tokens=1000)
    prompts = [builder.build(repo_name="ws", path="textwrap.py",
                             prefix=SAMPLE[:body] + typed[:i], suffix=SAMPLE[body:],
                             snippets=[UTIL]) for i in range(21)]
    fim_suffix = tok.convert_tokens_to_ids("<fim_suffix>")
    for before, after in pairwise(prompts):
        up_to_cursor = before.token_ids.index(fim_suffix)
        assert shared(before.token_ids, after.token_ids) >= up_to_cursor
        assert after.prefix_start_line == before.prefix_start_line
    cuts = [p.token_ids.index(fim_suffix) for p in prompts]
    assert cuts == [488] * 5 + [489] + [490] * 10 + [491] * 5
    # while a word is being typed the healed prompt does not change at all
    assert [shared(a.token_ids, b.token_ids) for a, b in pairwise(prompts)] == (
        [738] * 4 + [488, 489] + [740] * 9 + [490] + [741] * 4)
    assert prompts[-1].healed == " tabs"
    assert {p.prefix_start_line for p in prompts} == {377}


def test_sticky_window_moves_in_coarse_steps_only_when_forced(tok):
    builder = PromptBuilder(tok, budget_tokens=256)
    text = "".join(f"value_{i} = compute({i}, {i + 1})\n" for i in range(400))
    starts = []
    for end in range(0, len(text), 97):
        prompt = builder.build(repo_name=None, path="m.py", prefix=text[:end], suffix="",
                               snippets=[])
        assert len(prompt.token_ids) <= 256
        starts.append(prompt.prefix_start_line)
    moves = [b - a for a, b in pairwise(starts) if b != a]
    assert all(m > 0 for m in moves)
    assert min(moves) >= 5  # a quarter of the budget at a time, not a line per keystroke
    assert len(set(starts)) == len(moves) + 1


def test_cursor_above_the_anchor_reanchors(tok):
    builder = PromptBuilder(tok, budget_tokens=256)
    text = "".join(f"value_{i} = compute({i})\n" for i in range(300))
    late = builder.build(repo_name=None, path="m.py", prefix=text, suffix="", snippets=[])
    early = builder.build(repo_name=None, path="m.py", prefix=text[:200], suffix="",
                          snippets=[])
    assert late.prefix_start_line > 0
    assert early.prefix_start_line == 0


def test_small_file_gives_its_spare_budget_to_context_in_whole_steps(tok):
    snippets = [Snippet(f"m{i}.py", f"def helper_{i}(value: int) -> int:\n    return value * {i}\n")
                for i in range(12)]
    builder = PromptBuilder(tok, budget_tokens=512)
    prompts = [builder.build(repo_name="ws", path="app.py", prefix=PREFIX + "x" * n,
                             suffix=SUFFIX, snippets=snippets) for n in range(0, 400, 40)]
    assert all(len(p.token_ids) <= 512 for p in prompts)
    # far more than the 25% context share (128 tokens) while the file is small; fewer
    # snippets once the file has grown by a whole step, not token by token
    assert [p.context_tokens for p in prompts] == [308] * 6 + [252] * 4
    assert [len(p.snippets) for p in prompts] == [12] * 6 + [10] * 4
