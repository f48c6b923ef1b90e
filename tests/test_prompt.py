"""Prompt builder: exact StarCoder2 FIM formats, token budgets, sticky windows, the typed
middle, token healing."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from sc2_lsp.prompt import PromptBuilder
from sc2_lsp.snippet import Snippet

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
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def test_repo_level_psm_exact(tok):
    prompt = PromptBuilder(tok).build(repo_name="ws", path="app.py", prefix=PREFIX,
                                      suffix=SUFFIX, snippets=[UTIL])
    assert prompt.text == (
        '<repo_name>ws<file_sep>util.py\ndef parse_header(line: str) -> tuple[str, str]:\n'
        '    """Split."""\n<file_sep><fim_prefix>app.py\nimport os\n\ndef main():'
        "<fim_suffix>)\n    return x\n<fim_middle>\n    x =")
    assert prompt.healed == " pars"
    assert prompt.token_ids == ids(tok, prompt.text)
    assert (prompt.context_tokens, prompt.prefix_tokens, prompt.suffix_tokens,
            prompt.middle_tokens) == (28, 11, 5, 3)
    assert len(prompt.token_ids) == 28 + 11 + 5 + 3 + 4
    assert prompt.prefix_start_line == 0
    assert prompt.snippets == (UTIL,)


def test_file_level_psm_exact_without_healing(tok):
    prompt = PromptBuilder(tok, fmt="file", heal=False).build(
        repo_name="ws", path="app.py", prefix=PREFIX, suffix=SUFFIX, snippets=[UTIL])
    assert prompt.text == ("<fim_prefix>import os\n\ndef main():<fim_suffix>)\n    return x\n"
                           "<fim_middle>\n    x = pars")
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
    ("prefix", "head", "healed"),
    [("def f(x):\n    ", "def f(x):", "\n    "), ("x = 1\n", "x = 1", "\n"),
     ("if a:\n    x = foo", "if a:", " foo"), ("x = foo(", "", "("), ("s = 'é😀", "", "😀"),
     ("y = 12", "", "2")],
)
def test_token_healing_cuts_at_the_last_pre_token(tok, prefix, head, healed):
    """The prefix ends where the cursor's line begins; the rest of the line, healed, is the
    start of the middle (on the first line of a file the prefix is empty)."""
    prompt = PromptBuilder(tok, fmt="file").build(repo_name=None, path=None, prefix=prefix,
                                                  suffix="", snippets=[])
    assert prompt.healed == healed
    middle = prefix[len(head):len(prefix) - len(healed)]
    assert prompt.text == f"<fim_prefix>{head}<fim_suffix><fim_middle>{middle}"


def test_healing_never_eats_the_path_line(tok):
    prompt = PromptBuilder(tok).build(repo_name=None, path="a.py", prefix="", suffix="x\n",
                                      snippets=[])
    assert prompt.healed == ""
    assert prompt.text == "<file_sep><fim_prefix>a.py\n<fim_suffix>x\n<fim_middle>"


@pytest.mark.parametrize("budget", [8, 16, 64, 200, 512, 1000, 2048, 4096])
def test_budget_is_honoured_to_the_token_and_windows_cut_at_lines(tok, budget):
    at = SAMPLE.index("def dedent(text):")
    snippets = [UTIL, Snippet("b.py", "def helper(a, b):\n    return a + b\n")]
    builder = PromptBuilder(tok, budget_tokens=budget)
    prompt = builder.build(
        repo_name="ws", path="textwrap.py", prefix=SAMPLE[:at], suffix=SAMPLE[at:],
        snippets=snippets)
    assert len(prompt.token_ids) <= budget
    assert prompt.token_ids == ids(tok, prompt.text)
    assert prompt.suffix_tokens <= budget // 4
    assert prompt.context_tokens <= builder.context_limit == budget * 3 // 8
    lead = "<fim_prefix>textwrap.py\n" if budget > 8 else "<fim_prefix>"  # 8: file-level
    window = prompt.text.split(lead)[1].split("<fim_suffix>")[0]
    middle = prompt.text.split("<fim_middle>")[1]
    shown = window + middle + prompt.healed
    assert SAMPLE[:at].endswith(shown)
    if budget >= 200:  # smaller ones do not hold the line before the cursor: cut inside it
        assert SAMPLE[:at][-len(shown) - 1] == "\n"  # the window starts at a line start
    suffix = prompt.text.split("<fim_suffix>")[1].split("<fim_middle>")[0]
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
    for before, after in pairwise(prompts):
        # the prompt only grows: all of the previous one is the start of the next one, so
        # a keystroke prefills just the tokens it adds
        assert after.token_ids[:len(before.token_ids)] == before.token_ids
        assert after.prefix_start_line == before.prefix_start_line
    fim_middle = tok.convert_tokens_to_ids("<fim_middle>")
    assert {p.token_ids.index(fim_middle) for p in prompts} == {737}
    assert [p.middle_tokens for p in prompts] == [0] * 5 + [1] + [2] * 10 + [3] * 5
    assert prompts[-1].healed == " tabs"
    assert {p.prefix_start_line for p in prompts} == {377}


def test_the_middle_start_stays_for_eight_lines_then_moves_to_the_cursor_line(tok):
    at = SAMPLE.index("def dedent(text):")
    body = SAMPLE.index("\n", at) + 1
    typed = "".join(f"    value_{i} = {i}\n" for i in range(12))
    builder = PromptBuilder(tok, budget_tokens=1000)
    fim_middle = tok.convert_tokens_to_ids("<fim_middle>")
    cuts, added = [], 0
    previous: list[int] = []
    for i in range(len(typed) + 1):
        prompt = builder.build(repo_name="ws", path="textwrap.py", prefix=SAMPLE[:body] + typed[:i],
                               suffix=SAMPLE[body:], snippets=[])
        assert prompt.token_ids == ids(tok, prompt.text)
        cuts.append(prompt.text.index("<fim_middle>"))
        added += len(prompt.token_ids) - shared(previous, prompt.token_ids)
        previous = prompt.token_ids
    # typed lines join the prefix once eight are done, not once per line or keystroke
    moves = [i for i, (a, b) in enumerate(pairwise(cuts)) if a != b]
    assert len(moves) == 1 and typed[:moves[0] + 1].count("\n") == 8
    first, last = builder.build(repo_name="ws", path="textwrap.py", prefix=SAMPLE[:body],
                                suffix=SAMPLE[body:], snippets=[]), previous
    assert first.token_ids.index(fim_middle) < last.index(fim_middle)
    assert added < 2 * len(first.token_ids) + len(ids(tok, typed))


def test_an_edit_before_the_middle_start_moves_it(tok):
    builder = PromptBuilder(tok, fmt="file")
    builder.build(repo_name=None, path=None, prefix="x = 1\ny = 2\nz = ", suffix="", snippets=[])
    edited = builder.build(repo_name=None, path=None, prefix="x = 10\ny = 2\nz = ", suffix="",
                           snippets=[])
    assert edited.text == "<fim_prefix>x = 10\ny = 2<fim_suffix><fim_middle>\nz ="


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
    # far more than the 3/8 context share (192 tokens) while the file is small; fewer
    # snippets once the file has grown by a whole step, not token by token
    assert [p.context_tokens for p in prompts] == [308] * 3 + [280] * 7
    assert [len(p.snippets) for p in prompts] == [12] * 3 + [11] * 7


def test_middle_lines_start_the_middle_lines_above_the_cursor(tok):
    prefix = "import os\n\ndef main():\n    a = 1\n    b = 2\n    c = "
    prompt = PromptBuilder(tok, fmt="file", middle_lines=2).build(
        repo_name=None, path=None, prefix=prefix, suffix="\n    return c\n", snippets=[])
    assert prompt.text == ("<fim_prefix>import os\n\ndef main():<fim_suffix>\n    return c\n"
                           "<fim_middle>\n    a = 1\n    b = 2\n    c =")
    assert prompt.healed == " "
    assert prompt.token_ids == ids(tok, prompt.text)
