"""StarCoder2 fill-in-the-middle prompts within a token budget (docs/architecture.md, prompt).

Formats: ``repo`` (repo-level PSM with ``<file_sep>`` context files, what StarCoder2 was trained
on), ``file`` (plain PSM) and ``spm`` (suffix first, the prefix last).

Three properties keep the engine's KV cache useful from one keystroke to the next:

* the prefix window is *sticky*: its first line stays put until the budget forces it forward,
  and then it jumps a quarter of the budget at once, so typing only appends tokens;
* in the PSM formats, what the user is typing on the cursor's line goes *after*
  ``<fim_middle>``, as the start of the middle: the prefix is cut where that line begins, so
  the prefix and the suffix (which attends to it) stay the same token for token while the
  line is typed, and a keystroke prefills a token or two instead of the whole suffix. The cut
  is sticky for a few lines; it moves on when the middle grows past them;
* token healing cuts the typed text at the start of its last pre-token (a clean BPE boundary
  that stays a boundary as the user types on); the cut text is returned as ``healed`` for the
  engine to force as the first generated tokens.

Every piece of user text is tokenized with special-token strings treated as plain text, so a
file that mentions ``<file_sep>`` cannot forge prompt structure; ``token_ids`` equals the
tokenization of ``text`` whenever the text holds no such strings.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import LRUCache
from tokenizers import Tokenizer

from sc2_lsp.snippet import Snippet

FORMATS = ("repo", "file", "spm")

REPO_NAME, FILE_SEP = "<repo_name>", "<file_sep>"
FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE = "<fim_prefix>", "<fim_suffix>", "<fim_middle>"

MAX_HEAL_CHARS = 32

_SURROGATE = re.compile("[\ud800-\udfff]")


def _tokenizable(text: str) -> str:
    """Lone surrogates (text that isn't valid Unicode, which LSP's UTF-16 lets a document
    hold) as U+FFFD: the tokenizer only takes valid Unicode, and one character for one
    keeps every offset into the text valid."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)
"""Longest text token healing re-types: longer pre-tokens (a long word) back off one token."""

BOUNDARY_SEARCH_CHARS = 256
_BOUNDARY = re.compile(r"\S(?=\s)")

CHARS_PER_TOKEN_BOUND = 16
"""Text examined per token of budget when fitting windows; code averages 3-4 chars a token."""

TRIMMABLE_SHARE = 3
"""A trimmable snippet (skeleton, outline) gets at most 1/this of the context budget."""

MIDDLE_MAX_LINES = 8
"""Lines the typed middle may span before its start moves to the cursor's line (StarCoder2's
FIM middles, and the embedded model's, are often a few whole lines)."""

MIDDLE_KEY_CHARS = 64
"""Text before the middle's start (and its first character) remembered to tell that it is
still the same place."""


@dataclass
class Prompt:
    """A prompt ready for the engine; ``healed`` must be generated first, then stripped."""

    text: str
    token_ids: list[int]
    healed: str
    prefix_start_line: int
    context_tokens: int
    prefix_tokens: int
    suffix_tokens: int
    middle_tokens: int
    snippets: tuple[Snippet, ...] = ()
    suffix_chars: int = 0
    """How much of the suffix (from the cursor) the prompt shows."""
    context_allowed: int = 0
    """Tokens the context snippets were allowed (their share, plus what a small file leaves)."""


@dataclass
class _Anchor:
    """Where the sticky prefix window starts (``offset`` into the prefix, a line start)."""

    path: str | None
    offset: int
    line: int
    first_line: str


@dataclass
class _MiddleStart:
    """Where the typed middle starts (``offset`` into the prefix) and the text around it."""

    path: str | None
    offset: int
    key_at: int
    key: str


@dataclass
class _Piece:
    """A run of prompt text and its token ids (a special token is a piece of one id)."""

    text: str
    ids: list[int]


@dataclass
class _Window:
    """The prefix window from ``start``: its piece (path line included) and the healed text."""

    start: int
    piece: _Piece
    healed: str


class _IncrementalEncoder:
    """Encodes successive versions of the prefix piece, re-encoding only what changed.

    Byte-level BPE never merges across a pre-token boundary, and a non-space character followed
    by whitespace always is one, so the ids of the text up to such a boundary are a prefix of
    the ids of every text extending it. The last boundary seen is cached, and a keystroke
    re-encodes only the text after it. Tokenizers failing a probe of that property are
    encoded whole.
    """

    _PROBES = (("def f(x):", "\n    return x"), ("a", "  \n\n  b"), ("x = 12", " 34"),
               ("it's", " fine"), ("s = 'é😀", " z"), ("foo()", "\t\tbar"))

    def __init__(self, encode: Callable[[str], list[int]]) -> None:
        self._encode = encode
        self._head, self._head_ids = "", []
        self.enabled = all(encode(a + b) == encode(a) + encode(b) for a, b in self._PROBES)

    def encode(self, text: str) -> list[int]:
        if not self.enabled:
            return self._encode(text)
        done, ids = 0, []
        if self._head and text.startswith(self._head):
            done, ids = len(self._head), list(self._head_ids)
        boundary = _last_boundary(text, done)
        if boundary > done:
            ids += self._encode(text[done:boundary])
            self._head, self._head_ids, done = text[:boundary], ids, boundary
        return ids + self._encode(text[done:])


class PromptBuilder:
    """Builds prompts for one document; keep one per document so the window stays sticky."""

    def __init__(self, tokenizer, *, budget_tokens: int = 2048, suffix_fraction: float = 0.25,
                 fmt: str = "repo", heal: bool = True, context_fraction: float = 0.375,
                 middle_lines: int = 0) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"prompt format must be one of {FORMATS}, not {fmt!r}")
        self._tokens = _plain_text_tokenizer(tokenizer)
        self.budget = budget_tokens
        self.suffix_limit = int(budget_tokens * suffix_fraction)
        self.context_limit = int(budget_tokens * context_fraction)
        self.step = max(budget_tokens // 4, 1)
        self.middle_limit = self.step
        self.middle_lines = min(max(middle_lines, 0), MIDDLE_MAX_LINES - 1)
        self.fmt = fmt
        self.heal = heal
        self._anchor: _Anchor | None = None
        self._suffix_cache: tuple[str, _Piece] | None = None
        self._middle_start: _MiddleStart | None = None
        self._prefix_encoder = _IncrementalEncoder(self.encode)
        self._middle_encoder = _IncrementalEncoder(self.encode)
        self._snippet_ids: LRUCache = LRUCache(maxsize=256)
        self._part_ids: LRUCache = LRUCache(maxsize=4096)
        self._trims: LRUCache = LRUCache(maxsize=64)
        """The trimmed version last used of a snippet: the cut stays put while it fits, even
        when the snippet's preferred lines change (another name used), for the KV cache."""
        self._chosen: set[Snippet] = set()
        """Snippets of the last prompt: they keep their budget first while offered (typing
        that re-ranks the context must not reshuffle the prompt, whose tokens are cached)."""
        self._special = {t: self._tokens.token_to_id(t)
                         for t in (REPO_NAME, FILE_SEP, FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE)}

    # ------------------------------------------------------------------------ tokenizing
    def encode(self, text: str) -> list[int]:
        """Token ids of user text, special-token strings included as plain text."""
        return self._tokens.encode(_tokenizable(text), add_special_tokens=False).ids if text else []

    def _token_starts(self, text: str) -> list[int]:
        encoding = self._tokens.encode(_tokenizable(text), add_special_tokens=False)
        return [start for start, _ in encoding.offsets]

    def _special_piece(self, token: str) -> _Piece:
        return _Piece(token, [self._special[token]])

    # ---------------------------------------------------------------------------- build
    def build(self, *, repo_name: str | None, path: str | None, prefix: str, suffix: str,
              snippets: list[Snippet]) -> Prompt:
        repo_level = self.fmt != "file" and path is not None
        lead = f"{path}\n" if repo_level else ""
        repo = self._repo_pieces(repo_name) if repo_level else []
        if repo_level and 4 + _count(repo) + len(self.encode(lead)) > self.budget:
            repo_level, lead, repo = False, "", []  # a tiny budget: file-level FIM
        allowed = self.context_limit - _count(repo) if repo_level else 0
        chosen = self._select(snippets, allowed) if repo_level else []
        frame = 4 if repo_level else 3  # <file_sep>? <fim_prefix> <fim_suffix> <fim_middle>
        suffix_piece = self._suffix_window(suffix)
        cut, middle, healed = self._middle(path, prefix)
        context = sum(1 + len(ids) for _, ids in chosen)
        capacity = (self.budget - frame - len(suffix_piece.ids) - len(middle.ids) - _count(repo)
                    - context)
        window = self._prefix_window(path, lead, prefix[:cut], max(capacity, 0),
                                     heal=cut == len(prefix))
        healed = window.healed or healed
        if repo_level and window.start == 0:  # a small file: spare budget goes to context
            spare = (capacity - len(window.piece.ids)) // self.step * self.step
            allowed = context + spare
            chosen = self._select(snippets, allowed)
        chosen = _drop_visible(chosen, window.piece.text + middle.text + healed + suffix_piece.text)
        head = repo + [piece for snippet, ids in chosen
                       for piece in (self._special_piece(FILE_SEP),
                                     _Piece(_snippet_text(snippet), ids))]
        pieces = self._assemble(head, window.piece, suffix_piece, middle, repo_level)
        return Prompt(
            text="".join(p.text for p in pieces),
            token_ids=[i for p in pieces for i in p.ids],
            healed=healed,
            prefix_start_line=self._anchor.line,
            context_tokens=_count(head),
            prefix_tokens=len(window.piece.ids),
            suffix_tokens=len(suffix_piece.ids),
            middle_tokens=len(middle.ids),
            snippets=tuple(snippet for snippet, _ in chosen),
            suffix_chars=len(suffix_piece.text),
            context_allowed=allowed + _count(repo),
        )

    def _assemble(self, head: list[_Piece], prefix: _Piece, suffix: _Piece, middle: _Piece,
                  repo_level: bool) -> list[_Piece]:
        sp = self._special_piece
        if self.fmt == "spm":
            tail = [sp(FIM_PREFIX), sp(FIM_SUFFIX), suffix, sp(FIM_MIDDLE), prefix]
        else:
            tail = [sp(FIM_PREFIX), prefix, sp(FIM_SUFFIX), suffix, sp(FIM_MIDDLE), middle]
        return [*head, sp(FILE_SEP), *tail] if repo_level else tail

    # ---------------------------------------------------------------------------- middle
    def _middle(self, path: str | None, prefix: str) -> tuple[int, _Piece, str]:
        """Where the prefix piece ends, the typed middle's piece and its healed text.

        The middle starts at the cursor's line (or ``middle_lines`` lines above it, so that a
        small model, which leans on the text just before it, sees those lines right before
        where it generates), cut like token healing cuts an indentation (before the
        newline) so that it is tokenized as the model saw middles in training, and stays
        where it is while it spans at most ``MIDDLE_MAX_LINES`` lines and
        ``middle_limit`` tokens. SPM has none: its prefix comes last and is extended in
        place anyway."""
        if self.fmt == "spm":
            return len(prefix), _Piece("", []), ""
        cut = self._kept_middle_cut(path, prefix)
        if cut is None:
            line = prefix.rfind("\n") + 1
            for _ in range(self.middle_lines):
                line = prefix.rfind("\n", 0, max(line - 1, 0)) + 1 if line else 0
            indent_end = len(prefix) - len(prefix[line:].lstrip(" \t")) if line else 0
            cut = self._heal_cut(prefix[:indent_end], 0) if indent_end else 0
            key_at = max(cut - MIDDLE_KEY_CHARS, 0)
            self._middle_start = _MiddleStart(path, cut, key_at, prefix[key_at:cut + 1])
        typed = prefix[cut:]
        if len(typed) <= self.middle_limit * CHARS_PER_TOKEN_BOUND:
            heal_at = self._heal_cut(typed, 0) if self.heal and typed else len(typed)
            piece = _Piece(typed[:heal_at], self._middle_encoder.encode(typed[:heal_at]))
            if len(piece.ids) <= self.middle_limit:
                return cut, piece, typed[heal_at:]
        return len(prefix), _Piece("", []), ""

    def _kept_middle_cut(self, path: str | None, prefix: str) -> int | None:
        """The middle's start of the last prompt, while its text is unchanged and the middle
        from it stays within ``MIDDLE_MAX_LINES`` lines."""
        kept = self._middle_start
        if (kept is None or kept.path != path or kept.offset > len(prefix)
                or not prefix.startswith(kept.key, kept.key_at)):
            return None
        return kept.offset if prefix.count("\n", kept.offset) <= MIDDLE_MAX_LINES else None

    # -------------------------------------------------------------------- context (head)
    def _repo_pieces(self, repo_name: str | None) -> list[_Piece]:
        if not repo_name:
            return []
        return [self._special_piece(REPO_NAME), _Piece(repo_name, self.encode(repo_name))]

    def _select(self, snippets: list[Snippet], limit: int) -> list[tuple[Snippet, list[int]]]:
        """Snippets that fit ``limit`` tokens, with their ids, in the given (stable) order.

        The budget goes to the snippets of the last prompt first, then by priority (a
        snippet's ``priority``, lower first): a snippet that does not fit whole is trimmed
        line by line (its first line always kept) to what is left, then lower-priority ones
        get the rest. The limit is the context share of the
        budget, plus, when the whole file fits, the budget it leaves unused, rounded down to
        whole steps so that it changes (and the prompt with it) only once per step of
        typing, like the sticky window."""
        picked: dict[int, tuple[Snippet, list[int]]] = {}
        used = 0
        kept = self._chosen
        for index in sorted(range(len(snippets)), key=lambda i: (snippets[i] not in kept,
                                                                 snippets[i].priority)):
            room = limit - used - 1
            if snippets[index].parts is not None:  # a long skeleton leaves room for others
                room = min(room, max(limit // TRIMMABLE_SHARE, 1))
            fitted = self._fit(snippets[index], room)
            if fitted is not None:
                picked[index] = fitted
                used += 1 + len(fitted[1])
        self._chosen = {snippets[index] for index in picked}
        return [picked[index] for index in sorted(picked)]

    def _fit(self, snippet: Snippet, room: int) -> tuple[Snippet, list[int]] | None:
        """The snippet whole if it fits ``room`` tokens, else trimmed part by part: its head
        and tail, and each part in order that still fits (a long one skipped, not the rest
        with it); None when not even one part does."""
        ids = self._ids(snippet)
        if len(ids) <= room:
            return snippet, ids
        if snippet.parts is None:
            return None
        kept = self._trims.get(snippet)
        if kept is not None and len(self._ids(kept)) <= room:
            return kept, self._ids(kept)  # the same cut as last time while it fits
        parts = snippet.parts[1]
        used = len(self.encode(_snippet_text(snippet.trimmed([]))))
        keep = []
        for index, part in enumerate(parts):
            cost = len(self._line_ids(part)) + 1  # the part and its newline
            if used + cost <= room:
                keep.append(index)
                used += cost
        while keep:  # BPE across the joins may differ by a token or two
            trimmed = snippet.trimmed(keep)
            if len(self._ids(trimmed)) <= room:
                self._trims[snippet] = trimmed
                return trimmed, self._ids(trimmed)
            keep.pop()
        return None

    def _line_ids(self, text: str) -> list[int]:
        ids = self._part_ids.get(text)
        if ids is None:
            ids = self._part_ids[text] = self.encode(text)
        return ids

    def _ids(self, snippet: Snippet) -> list[int]:
        ids = self._snippet_ids.get(snippet)
        if ids is None:
            ids = self._snippet_ids[snippet] = self.encode(_snippet_text(snippet))
        return ids

    # ---------------------------------------------------------------------------- suffix
    def _suffix_window(self, suffix: str) -> _Piece:
        """The longest run of whole suffix lines within the suffix budget (cached: typing
        before the suffix leaves it unchanged)."""
        key = suffix[:self.suffix_limit * CHARS_PER_TOKEN_BOUND + 1]
        if self._suffix_cache is None or self._suffix_cache[0] != key:
            text = self._fit_head(suffix, self.suffix_limit)
            self._suffix_cache = (key, _Piece(text, self.encode(text)))
        return self._suffix_cache[1]

    def _fit_head(self, suffix: str, limit: int) -> str:
        if not suffix or limit <= 0:
            return ""
        _, hi, starts = self._scan(suffix, limit, from_end=False)
        if len(starts) <= limit and hi == len(suffix):
            return suffix
        end = starts[limit] if len(starts) > limit else hi
        cut = suffix.rfind("\n", 0, end) + 1 or end
        while cut > 0 and len(self.encode(suffix[:cut])) > limit:
            cut = suffix.rfind("\n", 0, cut - 1) + 1
        return suffix[:cut]

    # ---------------------------------------------------------------------------- prefix
    def _prefix_window(self, path: str | None, lead: str, prefix: str, capacity: int, *,
                       heal: bool) -> _Window:
        """The prefix window: from the sticky anchor while it fits, else re-anchored so that a
        quarter of the budget is left to type into before the next move."""
        anchor = self._anchor
        if anchor is not None and anchor.path == path and self._anchor_valid(anchor, prefix):
            window = self._window_at(lead, prefix, anchor.offset, heal)
            if len(window.piece.ids) <= capacity:
                return window
        window = None
        if len(prefix) <= capacity * CHARS_PER_TOKEN_BOUND:
            window = self._window_at(lead, prefix, 0, heal)
        if window is None or len(window.piece.ids) > capacity:
            start = self._fit_tail(lead, prefix, max(capacity - self.step, capacity // 2))
            window = self._window_at(lead, prefix, start, heal)
        line_end = prefix.find("\n", window.start)
        self._anchor = _Anchor(path, window.start, prefix.count("\n", 0, window.start),
                               prefix[window.start:line_end if line_end >= 0 else len(prefix)])
        return window

    def _window_at(self, lead: str, prefix: str, start: int, heal: bool) -> _Window:
        """The prefix piece from ``start``, cut back for token healing, and its ids."""
        text = lead + prefix[start:]
        heal = heal and self.heal and len(text) > len(lead)
        cut = self._heal_cut(text, len(lead)) if heal else len(text)
        return _Window(start, _Piece(text[:cut], self._prefix_encoder.encode(text[:cut])),
                       text[cut:])

    @staticmethod
    def _anchor_valid(anchor: _Anchor, prefix: str) -> bool:
        """The anchored line is still where it was (edits above the window invalidate it)."""
        at = anchor.offset
        return (at <= len(prefix) and (at == 0 or prefix[at - 1] == "\n")
                and prefix.startswith(anchor.first_line, at)
                and prefix.find("\n", at) == at + len(anchor.first_line))

    def _fit_tail(self, lead: str, prefix: str, limit: int) -> int:
        """Earliest line start whose tail of ``prefix`` (after ``lead``) has <= limit tokens."""
        room = max(limit - len(self.encode(lead)), 0)
        base, _, starts = self._scan(prefix, room, from_end=True)
        first = starts[-room] if 0 < room <= len(starts) else (base if room else len(prefix))
        cut = first if first == 0 or prefix[first - 1] == "\n" else prefix.find("\n", first) + 1
        cut = cut or first  # one huge line: cut inside it, at a token boundary
        while cut < len(prefix) and len(self.encode(lead + prefix[cut:])) > limit:
            nxt = prefix.find("\n", cut) + 1
            cut = nxt if nxt > cut else _next_start(starts, cut, len(prefix))
        return cut

    def _scan(self, text: str, count: int, *, from_end: bool) -> tuple[int, int, list[int]]:
        """Token starts in the shortest head (or tail) of ``text`` holding more than ``count``
        tokens, or in all of it: (span start, span end, absolute starts). Spans double from
        about four characters a token, so a keystroke never tokenizes a whole large file."""
        span = max(count, 1) * 4
        while True:
            lo, hi = (max(len(text) - span, 0), len(text)) if from_end else (0, min(span,
                                                                                   len(text)))
            starts = [lo + start for start in self._token_starts(text[lo:hi])]
            if len(starts) > count or hi - lo == len(text):
                return lo, hi, starts
            span *= 2

    # --------------------------------------------------------------------------- healing
    def _heal_cut(self, text: str, floor: int) -> int:
        """Start of the last pre-token (or of the last token when that is long), >= floor."""
        tail_start = max(len(text) - 4 * MAX_HEAL_CHARS, floor)
        tail = text[tail_start:]
        pre_tokenizer = self._tokens.pre_tokenizer
        pre = (pre_tokenizer.pre_tokenize_str(_tokenizable(tail))
               if pre_tokenizer is not None else [])
        cut = tail_start + pre[-1][1][0] if pre else len(text)
        if len(text) - cut > MAX_HEAL_CHARS:
            cut = tail_start + self._token_starts(tail)[-1]
        return max(cut, floor)


def _plain_text_tokenizer(tokenizer) -> Tokenizer:
    """A private copy of a Hugging Face fast tokenizer's backend that reads special-token
    strings in user code as plain text (the shared tokenizer is left untouched), called
    directly: the transformers wrapper costs more than the encoding itself per keystroke.
    Made once per tokenizer and shared by every document's builder: the copy re-parses
    the whole vocabulary, a cost the first keystroke in each new file should not pay."""
    if (tokens := _PLAIN_COPIES.get(tokenizer)) is None:
        tokens = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
        tokens.no_truncation()
        tokens.no_padding()
        tokens.encode_special_tokens = True
        _PLAIN_COPIES[tokenizer] = tokens
    return tokens


# Keyed weakly: a reloaded model's tokenizer takes its copy with it.
_PLAIN_COPIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def _snippet_text(snippet: Snippet) -> str:
    """A context file as the model saw files in training: path line, then the code."""
    return f"{snippet.path}\n{_with_newline(snippet.text)}"


def _count(pieces: list[_Piece]) -> int:
    return sum(len(p.ids) for p in pieces)


def _drop_visible(chosen: list[tuple[Snippet, list[int]]], visible: str
                  ) -> list[tuple[Snippet, list[int]]]:
    """Drop snippets whose every line the prefix or suffix window already shows."""
    shown = {line.strip() for line in visible.splitlines()}
    return [(snippet, ids) for snippet, ids in chosen
            if not all(line.strip() in shown
                       for line in snippet.text.splitlines() if line.strip())]


def _last_boundary(text: str, lo: int) -> int:
    """The last non-space-to-space transition in the tail of ``text`` after ``lo`` (else lo)."""
    last = None
    for match in _BOUNDARY.finditer(text, max(lo, len(text) - BOUNDARY_SEARCH_CHARS)):
        last = match
    return last.end() if last is not None else lo


def _next_start(starts: list[int], after: int, end: int) -> int:
    return next((s for s in starts if s > after), end)
