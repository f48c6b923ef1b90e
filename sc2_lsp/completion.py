"""The completion pipeline of one keystroke (docs/architecture.md), free of LSP.

cache → mode → context → prompt → engine → post-process. Each stage is its own
module; this one decides the order, what is skipped, and what the stats say.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .cache import CompletionCache
from .config import Settings
from .context.mode import decide_mode
from .context.retrieval import ContextRetriever
from .documents import Document, DocumentStore
from .engine import Engine, GenerationRequest, TextStop
from .postprocess import postprocess
from .prompt import Prompt, PromptBuilder
from .snippet import Snippet, relative_path
from .text import LINE_END_CLOSERS, block_floor, indent_width

# Larger documents are data or generated code: not worth a model call per keystroke.
MAX_DOCUMENT_CHARS = 1_000_000


@dataclass
class Completion:
    """Text to insert at the cursor, replacing `replaced` (text right after the cursor)."""

    text: str
    offset: int
    replaced: str = ""
    stats: dict = field(default_factory=dict)
    prompt: Prompt | None = None

    @property
    def replace_end(self) -> int:
        return self.offset + len(self.replaced)


@dataclass
class Job:
    """A model call, detached from the live document so it can run on the worker
    thread while the editor keeps editing."""

    uri: str
    offset: int
    prefix: str
    suffix: str
    mode: str
    language: str | None
    prompt: Prompt
    t0: float
    context: tuple = ()


class CompletionPipeline:
    def __init__(self, engine: Engine, settings: Settings, store: DocumentStore):
        self.engine, self.settings, self.store = engine, settings, store
        self.cache = CompletionCache(settings.cache_size)
        self.retriever = ContextRetriever(store)
        self._builders: dict[str, PromptBuilder] = {}

    def complete(self, doc: Document, offset: int, *, workspace: Path | None = None,
                 cancel: threading.Event | None = None) -> Completion:
        step = self.prepare(doc, offset, workspace)
        return step if isinstance(step, Completion) else self.run(step, cancel)

    def prepare(self, doc: Document, offset: int, workspace: Path | None) -> Completion | Job:
        """Cache, mode, context and prompt: fast, reads the document. A Completion when
        no model call is needed."""
        t0 = time.perf_counter()
        prefix, suffix = doc.text[:offset], doc.text[offset:]
        snippets = self.snippets_for(doc, offset, workspace)
        context = context_identity(snippets)
        if (rest := self.cache.typing_through(doc.uri, prefix, suffix, context)) is not None:
            return _answer(rest, offset, suffix, _stats("typing-through"), t0)
        if (hit := self.cache.exact(doc.uri, prefix, suffix, context)) is not None:
            return _answer(hit, offset, suffix, _stats("cache"), t0)
        mode = None if _not_code(doc.text) else decide_mode(doc, offset, self.settings.multiline)
        if mode is None:
            return _answer("", offset, suffix, _stats("none", "none"), t0)
        prompt = self.prompt_for(doc, offset, workspace, snippets)
        return Job(doc.uri, offset, prefix, suffix, mode, doc.language, prompt, t0, context)

    def run(self, job: Job, cancel: threading.Event | None = None) -> Completion:
        """Engine and post-processing: slow, touches only the job's own strings."""
        generation = self.engine.generate(self._request(job, cancel))
        text = generation.text
        if self.settings.postprocess:
            text = postprocess(text, prefix=job.prefix, suffix=job.suffix, mode=job.mode,
                               language=job.language)
            text = without_doubled_indent(text, job.prefix)
        stats = {**generation.stats, **_stats("model", job.mode),
                 "context_tokens": job.prompt.context_tokens,
                 "stop_reason": generation.stop_reason}
        if generation.stop_reason not in ("cancelled", "deadline", "error"):
            self.cache.store(job.uri, job.prefix, job.suffix, text, job.context)
        completion = _answer(text, job.offset, job.suffix, stats, job.t0)
        completion.prompt = job.prompt
        return completion

    def snippets_for(self, doc: Document, offset: int, workspace: Path | None
                     ) -> list[Snippet]:
        if not self.settings.context or _not_code(doc.text):
            return []
        return self.retriever.snippets(doc, offset, workspace)

    def prompt_for(self, doc: Document, offset: int, workspace: Path | None,
                   snippets: list[Snippet] | None = None) -> Prompt:
        if snippets is None:
            snippets = self.snippets_for(doc, offset, workspace)
        return self._builder(doc.uri).build(
            repo_name=workspace.name if workspace else None,
            path=_relative_path(doc, workspace),
            prefix=doc.text[:offset], suffix=doc.text[offset:], snippets=snippets)

    @property
    def budget_tokens(self) -> int:
        """The prompt budget, within what the model was trained on when its config says
        (the embedded model saw 512-token sequences; longer prompts confuse it)."""
        trained = self.engine.hints.trained_context
        return min(self.settings.context_tokens, trained or self.settings.context_tokens)

    @property
    def middle_lines(self) -> int:
        """Lines above the cursor's that open the middle: the setting, else the model's
        preference from its config (a small model leans on the text just before it)."""
        if self.settings.middle_lines is not None:
            return self.settings.middle_lines
        return self.engine.hints.middle_lines or 0

    def forget(self, uri: str) -> None:
        self._builders.pop(uri, None)
        self.cache.forget(uri)
        self.retriever.forget(uri)

    def _builder(self, uri: str) -> PromptBuilder:
        if uri not in self._builders:
            s = self.settings
            self._builders[uri] = PromptBuilder(
                self.engine.tokenizer, budget_tokens=self.budget_tokens,
                suffix_fraction=s.suffix_fraction, fmt=s.prompt_format, heal=s.token_healing,
                middle_lines=self.middle_lines)
        return self._builders[uri]

    def _request(self, job: Job, cancel: threading.Event | None) -> GenerationRequest:
        s = self.settings
        return GenerationRequest(
            job.prompt.token_ids, max_new_tokens=s.max_new_tokens,
            stop=TextStop(job.mode, indent_floor(job.prefix, job.mode, job.language)),
            forced_text=job.prompt.healed, temperature=s.temperature,
            deadline=time.monotonic() + s.deadline_ms / 1000, cancel=cancel)


def _answer(text: str, offset: int, suffix: str, stats: dict, t0: float) -> Completion:
    """The completion, its stats timed over the whole pipeline (prompt building too)."""
    stats["total_ms"] = round((time.perf_counter() - t0) * 1e3, 3)
    return Completion(text, offset, suffix[:replaced_length(suffix, text)], stats)


def indent_floor(prefix: str, mode: str, language: str | None = None) -> int | None:
    """Multi-line generation stops at a line indented less than this: the end of the
    block the cursor is in (or of the block the cursor's line opens), by the rule the
    scope cut of post-processing applies."""
    if mode != "multi-line":
        return None
    line = prefix[prefix.rfind("\n") + 1:]
    return indent_width(line) if not line.strip() else block_floor(line, language)


def without_doubled_indent(text: str, prefix: str) -> str:
    """After the line's indentation, a completion's first line starts at the code:
    the model sometimes repeats the indentation, which would double it."""
    line = prefix[prefix.rfind("\n") + 1:]
    return text.lstrip(" \t") if line and not line.strip() else text


def replaced_length(suffix: str, completion: str) -> int:
    """How much text after the cursor the completion replaces: auto-closed brackets or
    quotes that end the line when the completion ends with them itself, else nothing."""
    rest = suffix.split("\n", 1)[0].rstrip("\r")
    closers = rest.strip()
    if (closers and set(closers) <= LINE_END_CLOSERS and "\n" not in completion
            and completion.rstrip().endswith(closers)):
        return len(rest)
    return 0


def context_identity(snippets: list[Snippet]) -> tuple:
    """What the context of a prompt was read from: each snippet's (path, version); a cached
    completion built on an older version of another file is not served again."""
    return tuple(snippet.origin for snippet in snippets)


def _not_code(text: str) -> bool:
    """Binary or huge documents get no completion."""
    return len(text) > MAX_DOCUMENT_CHARS or "\x00" in text


def _relative_path(doc: Document, workspace: Path | None) -> str | None:
    return None if doc.path is None else relative_path(Path(doc.path), workspace)


def _stats(source: str, mode: str | None = None) -> dict:
    return {"source": source, "mode": mode}
