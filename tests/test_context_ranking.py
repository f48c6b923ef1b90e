"""Context that finds what the code is about to use: unused imports, layouts, re-exports,
bases in other files, trimmed skeletons, and the completion cache keyed by the context."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoTokenizer

from sc2_lsp.cache import CompletionCache
from sc2_lsp.completion import context_identity
from sc2_lsp.context.retrieval import ContextRetriever
from sc2_lsp.documents import DocumentStore
from sc2_lsp.prompt import PromptBuilder
from sc2_lsp.snippet import Snippet
from tests.test_context_symbols import parse_errors

ROOT = Path(__file__).resolve().parents[1]
WS_PARSE = ROOT / "tests/fixtures/ws_parse"
TOKENIZER = AutoTokenizer.from_pretrained(ROOT / "model/sc2-mini")


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _snippets(workspace: Path, path: str, text: str, offset: int | None = None,
              store: DocumentStore | None = None) -> list[Snippet]:
    store = store or DocumentStore()
    doc = store.open((workspace / path).as_uri(), text, "python", 1)
    return ContextRetriever(store).snippets(doc, len(text) if offset is None else offset,
                                            workspace)


def test_parse_header_is_in_the_prompt_before_it_is_typed():
    app = (WS_PARSE / "app.py").read_text()
    cursor = app.index("name, value = ") + len("name, value = ")
    text = app[:cursor] + app[app.index("\n", cursor):]  # the call not typed yet
    store = DocumentStore()
    doc = store.open((WS_PARSE / "app.py").as_uri(), text, "python", 1)
    snippets = ContextRetriever(store).snippets(doc, cursor, WS_PARSE)
    prompt = PromptBuilder(TOKENIZER).build(repo_name="ws_parse", path="app.py",
                                            prefix=text[:cursor], suffix=text[cursor:],
                                            snippets=snippets)
    head = prompt.text.partition("<fim_prefix>")[0]
    assert "<file_sep>util.py\ndef parse_header(line: str) -> tuple[str, str]: ...\n" in head


def test_src_layout_named_in_pyproject_resolves_absolute_imports(tmp_path):
    ws = _write(tmp_path, {
        "pyproject.toml": '[tool.setuptools.packages.find]\nwhere = ["code"]\n',
        "code/shop/__init__.py": "",
        "code/shop/prices.py": "def net_price(gross: float, rate: float) -> float:\n"
                               "    return gross / (1 + rate)\n",
        "code/shop/cart.py": "from shop.prices import net_price\n\n\ndef total(items):\n"
                             "    return sum(",
    })
    text = (ws / "code/shop/cart.py").read_text()
    assert _snippets(ws, "code/shop/cart.py", text) == [Snippet(
        "code/shop/prices.py", "def net_price(gross: float, rate: float) -> float: ...")]


def test_conventional_src_folder_without_build_files(tmp_path):
    ws = _write(tmp_path, {"src/app/__init__.py": "", "src/app/util.py": "LIMIT = 10\n",
                           "src/app/main.py": "from app.util import LIMIT\n\nx = "})
    text = (ws / "src/app/main.py").read_text()
    assert _snippets(ws, "src/app/main.py", text) == [Snippet("src/app/util.py", "LIMIT = 10")]


def test_names_re_exported_through_a_package_init(tmp_path):
    ws = _write(tmp_path, {
        "pkg/__init__.py": "from .core import *\nfrom .extra import helper as assist\n",
        "pkg/core.py": "__all__ = ['Engine']\n\n\nclass Engine:\n    def run(self): ...\n",
        "pkg/extra.py": "def helper(x):\n    return x\n",
        "main.py": "from pkg import Engine, assist\n\nEngine().run()\nassist(1)\n",
    })
    text = (ws / "main.py").read_text()
    snippets = _snippets(ws, "main.py", text)
    assert snippets[:2] == [Snippet("pkg/extra.py", "def helper(x):\n    return x"),
                            Snippet("pkg/core.py", "class Engine:\n    def run(self): ...")]


def test_base_class_from_another_file_is_shown_while_inside_the_subclass(tmp_path):
    base = ('class Shape:\n    """A shape."""\n\n    def __init__(self, name):\n'
            "        self.name = name\n        self.sides = 0\n\n    def area(self) -> float:\n"
            "        raise NotImplementedError\n\n    def describe(self) -> str:\n"
            '        return f"{self.name}: {self.area()}"\n')
    ws = _write(tmp_path, {"shapes/base.py": base, "shapes/__init__.py": "",
                           "shapes/square.py": "from .base import Shape\n\n\n"
                                               "class Square(Shape):\n"
                                               "    def area(self) -> float:\n"
                                               "        return self."})
    text = (ws / "shapes/square.py").read_text()
    assert _snippets(ws, "shapes/square.py", text)[0] == Snippet(
        "shapes/base.py", 'class Shape:\n    """A shape."""\n    def __init__(self, name):\n'
                          "        self.name = name\n        self.sides = 0\n        ...\n"
                          "    def area(self) -> float: ...\n    def describe(self) -> str: ...")


def test_skeleton_larger_than_the_budget_is_trimmed_and_keeps_its_class_line(tmp_path):
    methods = "".join(f"    def method_{i}(self, value: int) -> int:\n"
                      f"        return value + {i}\n\n" for i in range(60))
    doc = ('class Registry:\n    """Registry of handlers.\n\n    Long text\n    over lines.\n'
           '    More.\n    """\n\n' + methods)
    ws = _write(tmp_path, {"reg.py": doc, "use.py": "from reg import Registry\n\nr = Registry()\n"})
    text = (ws / "use.py").read_text()
    snippets = _snippets(ws, "use.py", text)
    builder = PromptBuilder(TOKENIZER, budget_tokens=512)
    prompt = builder.build(repo_name="ws", path="use.py", prefix=text, suffix="",
                           snippets=snippets)
    shown = [s for s in prompt.snippets if s.text.startswith("class Registry:\n")]
    assert len(shown) == 1 and shown[0].text != snippets[0].text  # trimmed, not dropped
    assert shown[0].text.startswith('class Registry:\n    """Registry of handlers.\n')
    assert shown[0].text.endswith("    def method_1(self, value: int) -> int: ...")
    assert parse_errors("python", shown[0].text) == []
    assert prompt.context_tokens <= prompt.context_allowed <= 512


def test_an_edit_to_util_py_changes_the_cache_key():
    store = DocumentStore()
    app = (WS_PARSE / "app.py").read_text()
    offset = app.index("headers[name]")
    doc = store.open((WS_PARSE / "app.py").as_uri(), app, "python", 1)
    util = store.open((WS_PARSE / "util.py").as_uri(), (WS_PARSE / "util.py").read_text(),
                      "python", 1)
    retriever = ContextRetriever(store)
    before = context_identity(retriever.snippets(doc, offset, WS_PARSE))
    cache = CompletionCache()
    prefix, suffix = app[:offset], app[offset:]
    cache.store(doc.uri, prefix, suffix, "headers[name] = value", before)
    assert cache.exact(doc.uri, prefix, suffix, before) == "headers[name] = value"
    util.apply_change((3, 0), (3, 0), "# parse one line\n")
    util.version = 2
    after = context_identity(retriever.snippets(doc, offset, WS_PARSE))
    assert after != before
    assert cache.key(doc.uri, prefix, suffix, after) != cache.key(doc.uri, prefix, suffix,
                                                                  before)
    assert cache.exact(doc.uri, prefix, suffix, after) is None
    assert cache.typing_through(doc.uri, prefix + "head", suffix, after) is None


def test_setup_cfg_package_dir_and_typescript_re_exports(tmp_path):
    ws = _write(tmp_path, {
        "setup.cfg": "[options]\npackage_dir =\n    =lib\n",
        "lib/tools/__init__.py": "",
        "lib/tools/text.py": "def shout(s):\n    return s.upper()\n",
        "web/shapes/index.ts":
            'export * from "./circle";\nexport { area as surface } from "./util";\n',
        "web/shapes/circle.ts": "export class Circle {\n  constructor(public r: number) {}\n}\n",
        "web/shapes/util.ts":
            "export function area(r: number): number {\n  return 3.14 * r * r;\n}\n",
    })
    assert _snippets(ws, "run.py", "from tools.text import shout\n\nshout(") == [
        Snippet("lib/tools/text.py", "def shout(s):\n    return s.upper()")]
    store = DocumentStore()
    text = 'import { Circle, surface } from "./shapes";\n\nconst c = new Circle(2);\nsurface('
    doc = store.open((ws / "web/main.ts").as_uri(), text, "typescript", 1)
    snippets = ContextRetriever(store).snippets(doc, len(text), ws)
    assert snippets[:2] == [
        Snippet("web/shapes/util.ts",
                "export function area(r: number): number {\n  return 3.14 * r * r;\n}"),
        Snippet("web/shapes/circle.ts",
                "export class Circle {\n  constructor(public r: number) {}\n}")]
