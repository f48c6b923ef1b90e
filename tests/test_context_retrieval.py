"""Context retrieval on fixture workspaces: imports resolved to definitions, skeletons, edits."""

from __future__ import annotations

import os
from itertools import pairwise
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from sc2_lsp.context.retrieval import ContextRetriever
from sc2_lsp.context.workspace import FileCache
from sc2_lsp.documents import DocumentStore
from sc2_lsp.prompt import PromptBuilder
from sc2_lsp.snippet import Snippet

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests/fixtures"
PARSE_HEADER = (
    'def parse_header(line: str) -> tuple[str, str]:\n'
    '    """Split a header line into its name and value.\n\n'
    '    >>> parse_header("Content-Type: text/plain")\n'
    "    ('Content-Type', 'text/plain')\n"
    '    """')


_RETRIEVERS: dict[int, ContextRetriever] = {}


def gather_snippets(doc, offset, store, workspace, **options):
    """Snippets from the retriever of ``store`` (one per store, like one per pipeline)."""
    retriever = _RETRIEVERS.setdefault(id(store), ContextRetriever(store))
    return retriever.snippets(doc, offset, workspace, **options)


FORMAT_HEADER_STUB = Snippet("util.py", "def format_header(name: str, value: str) -> str: ...")


def open_doc(store: DocumentStore, path: Path, language: str, text: str | None = None):
    text = path.read_text() if text is None else text
    return store.open(path.as_uri(), text, language, 1), text


def test_ws_parse_snippet_and_repo_prompt():
    ws = FIXTURES / "ws_parse"
    store = DocumentStore()
    doc, text = open_doc(store, ws / "app.py", "python")
    offset = text.index("parse_header(line)") + len("parse_header(")
    snippets = gather_snippets(doc, offset, store, ws)
    # the definition used at the cursor, then the rest of the imported module's outline
    assert snippets == [Snippet("util.py", PARSE_HEADER), FORMAT_HEADER_STUB]
    tokenizer = AutoTokenizer.from_pretrained(ROOT / "model/sc2-mini")
    prompt = PromptBuilder(tokenizer).build(repo_name=ws.name, path="app.py",
                                            prefix=text[:offset], suffix=text[offset:],
                                            snippets=snippets)
    head, _, _ = prompt.text.partition("<fim_prefix>")
    assert "<file_sep>util.py" in head and "def parse_header(line: str)" in head
    assert prompt.healed == "("
    line = text.rindex("\n", 0, offset)  # the cursor's line starts the middle
    assert prompt.text == (
        f"<repo_name>ws_parse<file_sep>util.py\n{PARSE_HEADER}\n<file_sep>util.py\n"
        f"{FORMAT_HEADER_STUB.text}\n<file_sep><fim_prefix>app.py\n"
        f"{text[:line]}<fim_suffix>{text[offset:]}<fim_middle>{text[line:offset - 1]}")
    assert (len(prompt.token_ids), prompt.context_tokens) == (197, 88)


def test_typing_an_imported_name_finds_it_by_prefix():
    ws = FIXTURES / "ws_parse"
    store = DocumentStore()
    text = "from util import format_header, parse_header\n\nx = pars"
    doc, _ = open_doc(store, ws / "scratch.py", "python", text)
    assert [s.text.split("\n")[0] for s in gather_snippets(doc, len(text), store, ws)] == [
        "def parse_header(line: str) -> tuple[str, str]:",  # typed: the full definition
        "def format_header(name: str, value: str) -> str: ..."]  # imported, not used yet


def test_python_relative_imports_module_attribute_and_alias():
    ws = FIXTURES / "ws_pkg"
    store = DocumentStore()
    doc, text = open_doc(store, ws / "pkg/main.py", "python")
    snippets = gather_snippets(doc, text.index("return f"), store, ws)
    assert snippets == [
        Snippet("pkg/helpers.py",
                "def slugify(title: str, *, limit: int = 40) -> str:\n"
                '    words = re.findall(r"[a-z0-9]+", title.lower())\n'
                "    return SEPARATOR.join(words)[:limit]"),
        Snippet("pkg/models.py",
                '@dataclass\nclass User:\n    """A registered user."""\n    name: str\n'
                "    email: str\n    def display(self) -> str: ...\n    @property\n"
                "    def domain(self) -> str: ..."),
        Snippet("pkg/helpers.py", 'SEPARATOR = "-"'),  # the rest of helpers.py's outline
    ]


def test_typescript_relative_imports_default_named_and_aliased():
    ws = FIXTURES / "ws_js"
    store = DocumentStore()
    doc, text = open_doc(store, ws / "src/main.ts", "typescript")
    snippets = gather_snippets(doc, text.index("console"), store, ws)
    assert [s.path for s in snippets] == ["src/math.ts"] * 3
    assert [s.text.split("\n")[-1] for s in snippets] == [
        "}", "export const scale = (v: Vec, k: number): Vec => new Vec(v.x * k, v.y * k);", "}"]
    assert snippets[2].text.startswith("/** Adds two numbers. */\nexport function add(")


def test_open_unsaved_buffer_wins_over_the_file_on_disk():
    ws = FIXTURES / "ws_parse"
    store = DocumentStore()
    open_doc(store, ws / "util.py", "python", "def parse_header(line, sep=':'):\n    pass\n")
    doc, text = open_doc(store, ws / "app.py", "python")
    snippets = gather_snippets(doc, text.index("headers[name]"), store, ws)
    assert snippets[0] == Snippet("util.py", "def parse_header(line, sep=':'):\n    pass")


def test_enclosing_class_skeleton_shows_far_siblings_only_when_far():
    filler = "".join(f"        x{i} = {i}\n" for i in range(70))
    text = ("class Store:\n    def get(self, key: str) -> bytes:\n" + filler +
            "        return b''\n\n    def put(self, key: str, value: bytes) -> None:\n"
            "        pass\n")
    store = DocumentStore()
    doc = store.open("file:///ws/store.py", text, "python", 1)
    near_get = text.index("x0 =")
    near_put = text.index("pass")
    assert gather_snippets(doc, near_get, store, Path("/ws")) == [Snippet(
        "store.py", "class Store:\n    def put(self, key: str, value: bytes) -> None: ...")]
    assert gather_snippets(doc, near_put, store, Path("/ws")) == [Snippet(
        "store.py", "class Store:\n    def get(self, key: str) -> bytes: ...")]
    assert gather_snippets(doc, text.index("x35 ="), store, Path("/ws")) == []


def test_module_skeleton_lists_far_top_level_definitions():
    filler = "".join(f"    y{i} = {i}\n" for i in range(70))
    text = "def first(a):\n" + filler + "    return a\n\n\ndef second(b):\n    return b\n"
    store = DocumentStore()
    doc = store.open("file:///ws/m.py", text, "python", 1)
    assert gather_snippets(doc, len(text), store, Path("/ws")) == [
        Snippet("m.py", "def first(a): ...")]


def test_recent_edits_of_other_documents_oldest_first_and_stable():
    store = DocumentStore()
    lines = "".join(f"line_{i} = {i}\n" for i in range(40))
    other = store.open("file:///ws/other.py", lines, "python", 1)
    third = store.open("file:///ws/third.js", "let a = 1;\n", "javascript", 1)
    current = store.open("file:///ws/cur.py", "z = 1\n", "python", 1)
    other.apply_change((20, 0), (20, 0), "edited = True\n")
    first = gather_snippets(current, 0, store, Path("/ws"))
    assert first == [Snippet("other.py", "line_18 = 18\nline_19 = 19\nedited = True\n"
                                         "line_20 = 20\nline_21 = 21")]
    third.apply_change((0, 0), (0, 0), "// hi\n")
    second = gather_snippets(current, 0, store, Path("/ws"))
    assert second == [first[0], Snippet("third.js", "// hi\nlet a = 1;\n")]
    assert gather_snippets(other, 0, store, Path("/ws")) == [second[1]]  # never its own edits


def test_no_workspace_and_plain_text_are_fine():
    store = DocumentStore()
    doc = store.open("untitled:1", "hello", "", 1)
    assert gather_snippets(doc, 5, store, None) == []


def test_max_chars_bounds_the_snippets():
    ws = FIXTURES / "ws_pkg"
    store = DocumentStore()
    doc, text = open_doc(store, ws / "pkg/main.py", "python")
    snippets = gather_snippets(doc, text.index("return f"), store, ws, max_chars=200)
    assert [s.path for s in snippets] == ["pkg/helpers.py"] * 2


def test_workspace_parses_are_cached_by_mtime(tmp_path):
    FILES = FileCache()
    path = tmp_path / "m.py"
    path.write_text("def a():\n    pass\n")
    first = FILES.parse(path)
    assert FILES.parse(path) is first
    assert list(first.definitions) == ["a"]
    path.write_text("def b():\n    pass\n")
    os.utime(path, ns=(1, 1))
    assert list(FILES.parse(path).definitions) == ["b"]


@pytest.mark.parametrize("name", ["big.py", "bin.py"])
def test_huge_or_binary_workspace_files_are_skipped(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"x = 1\n" * 200_000 if name == "big.py" else b"x = 1\x00\n")
    assert FileCache().parse(path) is None


def test_module_import_attribute_resolves_the_definition():
    ws = FIXTURES / "ws_parse"
    store = DocumentStore()
    text = "import util as u\n\nprint(u.format_header('a', 'b'))\n"
    doc, _ = open_doc(store, ws / "scratch.py", "python", text)
    assert gather_snippets(doc, len(text) - 1, store, ws) == [
        Snippet("util.py", "def format_header(name: str, value: str) -> str:\n"
                           '    return f"{name}: {value}"'),
        Snippet("util.py", "def parse_header(line: str) -> tuple[str, str]: ...")]


def test_typing_in_app_py_keeps_context_and_prefix_tokens_shared():
    """The pipeline's own loop: edit the document, gather, build; 20 keystrokes."""
    ws = FIXTURES / "ws_parse"
    store = DocumentStore()
    doc, text = open_doc(store, ws / "app.py", "python")
    line = text[:text.index("        headers[name] = value")].count("\n")
    doc.apply_change((line, 0), (line, 0), "\n")
    tokenizer = AutoTokenizer.from_pretrained(ROOT / "model/sc2-mini")
    builder = PromptBuilder(tokenizer)
    fim_middle = tokenizer.convert_tokens_to_ids("<fim_middle>")
    typed = "        print(parse_"
    prompts = []
    for i in range(len(typed) + 1):
        if i:
            doc.apply_change((line, i - 1), (line, i - 1), typed[i - 1])
        offset = doc.offset_at(line, i)
        snippets = gather_snippets(doc, offset, store, ws)
        prompts.append(builder.build(repo_name=ws.name, path="app.py",
                                     prefix=doc.text[:offset], suffix=doc.text[offset:],
                                     snippets=snippets))
    assert len(typed) == 20
    assert all(p.snippets == (Snippet("util.py", PARSE_HEADER), FORMAT_HEADER_STUB)
               for p in prompts)
    assert {p.context_tokens for p in prompts} == {88}
    # exact: the prompt only grows, by a token now and then (healed text aside)
    assert all(b.token_ids[:len(a.token_ids)] == a.token_ids for a, b in pairwise(prompts))
    assert {p.token_ids.index(fim_middle) for p in prompts} == {197}
    assert [len(p.token_ids) for p in prompts] == [198] * 9 + [199] * 5 + [200] + [201] * 5 + [202]
    assert prompts[-1].healed == "_"


def test_commonjs_requires_destructured_aliased_and_module():
    ws = FIXTURES / "ws_js"
    store = DocumentStore()
    doc, text = open_doc(store, ws / "lib/report.js", "javascript")
    snippets = gather_snippets(doc, text.index("}\n", text.index("function line")), store, ws)
    assert [s.text.split("\n")[1] if s.text.startswith("/**") else s.text.split("\n")[0]
            for s in snippets] == ["function shout(text) {",  # nearest the cursor first
                                   "function padLeft(text, width, fill = \" \") {"]
    assert {s.path for s in snippets} == {"lib/strings.js"}
