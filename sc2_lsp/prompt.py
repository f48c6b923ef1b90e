"""StarCoder2 fill-in-the-middle prompts within a token budget (DESIGN.md §4).

Formats: ``repo`` (repo-level PSM with ``<file_sep>`` context files, what StarCoder2 was trained
on), ``file`` (plain PSM) and ``spm`` (suffix first, the prefix last).

Two properties keep the engine's KV cache useful from one keystroke to the next:

* the prefix window is *sticky*: its first line stays put until the budget forces it forward,
  and then it jumps a quarter of the budget at once, so typing only appends tokens;
* token healing cuts the prefix at the start of its last pre-token (a clean BPE boundary that
  stays a boundary as the user types on); the cut text is returned as ``healed`` for the engine
  to force as the first generated tokens.

Every piece of user text is tokenized with special-token strings treated as plain text, so a
file that mentions ``<file_sep>`` cannot forge prompt structure; ``token_ids`` equals the
tokenization of ``text`` whenever the text holds no such strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from cachetools import LRUCache

from sc2_lsp.context.retrieval import Snippet

FORMATS = ("repo", "file", "spm")

REPO_NAME, FILE_SEP = "<repo_name>", "<file_sep>"
FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE = "<fim_prefix>", "<fim_suffix>", "<fim_middle>"

MAX_HEAL_CHARS = 32
"""Longest text token healing re-types: longer pre-tokens (a long word) back off one token."""

CHARS_PER_TOKEN_BOUND = 16
"""Text examined per token of budget when fitting windows; code averages 3-4 chars a token."""


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
    snippets: tuple[Snippet, ...] = ()


@dataclass
class _Anchor:
    """Where the sticky prefix window starts (``offset`` into the prefix, a line start)."""

    path: str | None
    offset: int
    line: int
    first_line: str


@dataclass
class _Piece:
    """A run of prompt text and its token ids (a special token is a piece of one id)."""

    text: str
    ids: list[int]


class PromptBuilder:
    """Builds prompts for one document; keep one per document so the window stays sticky."""

    def __init__(self, tokenizer, *, budget_tokens: int = 2048, suffix_fraction: float = 0.25,
                 fmt: str = "repo", heal: bool = True, context_fraction: float = 0.25) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"prompt format must be one of {FORMATS}, not {fmt!r}")
        self.tokenizer = tokenizer
        self.budget = budget_tokens
        self.suffix_limit = int(budget_tokens * suffix_fraction)
        self.context_limit = int(budget_tokens * context_fraction)
        self.step = max(budget_tokens // 4, 1)
        self.fmt = fmt
        self.heal = heal
        self._anchor: _Anchor | None = None
        self._snippet_ids: LRUCache = LRUCache(maxsize=256)
        self._special = {t: tokenizer.convert_tokens_to_ids(t)
                         for t in (REPO_NAME, FILE_SEP, FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE)}

    # ------------------------------------------------------------------------ tokenizing
    def encode(self, text: str) -> list[int]:
        """Token ids of user text, special-token strings included as plain text."""
        if not text:
            return []
        return self.tokenizer(text, add_special_tokens=False,
                              split_special_tokens=True)["input_ids"]

    def _token_starts(self, text: str) -> list[int]:
        enc = self.tokenizer(text, add_special_tokens=False, split_special_tokens=True,
                             return_offsets_mapping=True)
        return [start for start, _ in enc["offset_mapping"]]

    def _special_piece(self, token: str) -> _Piece:
        return _Piece(token, [self._special[token]])

    # ---------------------------------------------------------------------------- build
    def build(self, *, repo_name: str | None, path: str | None, prefix: str, suffix: str,
              snippets: list[Snippet]) -> Prompt:
        repo_level = self.fmt != "file" and path is not None
        lead = f"{path}\n" if repo_level else ""
        repo = self._repo_pieces(repo_name) if repo_level else []
        chosen = self._select(snippets, self.context_limit - _count(repo)) if repo_level else []
        frame = 4 if repo_level else 3  # <file_sep>? <fim_prefix> <fim_suffix> <fim_middle>
        suffix_text = self._suffix_window(suffix)
        suffix_ids = self.encode(suffix_text)
        capacity = (self.budget - frame - len(suffix_ids) - _count(repo)
                    - sum(1 + len(ids) for _, ids in chosen))
        start = self._prefix_window(path, lead, prefix, max(capacity, 0))
        window = prefix[start:]
        chosen = _drop_visible(chosen, window + suffix_text)
        head = repo + [piece for snippet, ids in chosen
                       for piece in (self._special_piece(FILE_SEP),
                                     _Piece(_snippet_text(snippet), ids))]
        piece, healed = self._healed_piece(lead, window)
        pieces = self._assemble(head, piece, _Piece(suffix_text, suffix_ids), repo_level)
        return Prompt(
            text="".join(p.text for p in pieces),
            token_ids=[i for p in pieces for i in p.ids],
            healed=healed,
            prefix_start_line=self._anchor.line,
            context_tokens=_count(head),
            prefix_tokens=len(piece.ids),
            suffix_tokens=len(suffix_ids),
            snippets=tuple(snippet for snippet, _ in chosen),
        )

    def _assemble(self, head: list[_Piece], prefix: _Piece, suffix: _Piece,
                  repo_level: bool) -> list[_Piece]:
        sp = self._special_piece
        if self.fmt == "spm":
            tail = [sp(FIM_PREFIX), sp(FIM_SUFFIX), suffix, sp(FIM_MIDDLE), prefix]
        else:
            tail = [sp(FIM_PREFIX), prefix, sp(FIM_SUFFIX), suffix, sp(FIM_MIDDLE)]
        return [*head, sp(FILE_SEP), *tail] if repo_level else tail

    # -------------------------------------------------------------------- context (head)
    def _repo_pieces(self, repo_name: str | None) -> list[_Piece]:
        if not repo_name:
            return []
        return [self._special_piece(REPO_NAME), _Piece(repo_name, self.encode(repo_name))]

    def _select(self, snippets: list[Snippet], limit: int) -> list[tuple[Snippet, list[int]]]:
        """Snippets in the given (stable) order that fit the context budget, with their ids."""
        chosen, used = [], 0
        for snippet in snippets:
            ids = self._snippet_ids.get(snippet)
            if ids is None:
                ids = self._snippet_ids[snippet] = self.encode(_snippet_text(snippet))
            if used + 1 + len(ids) <= limit:
                chosen.append((snippet, ids))
                used += 1 + len(ids)
        return chosen

    # ---------------------------------------------------------------------------- suffix
    def _suffix_window(self, suffix: str) -> str:
        """The longest run of whole suffix lines within the suffix budget."""
        limit = self.suffix_limit
        if not suffix or limit <= 0:
            return ""
        head = suffix[: limit * CHARS_PER_TOKEN_BOUND]
        starts = self._token_starts(head)
        if len(starts) <= limit and len(head) == len(suffix):
            return suffix
        end = starts[limit] if len(starts) > limit else len(head)
        cut = head.rfind("\n", 0, end) + 1 or end
        while cut > 0 and len(self.encode(suffix[:cut])) > limit:
            cut = suffix.rfind("\n", 0, cut - 1) + 1
        return suffix[:cut]

    # ---------------------------------------------------------------------------- prefix
    def _prefix_window(self, path: str | None, lead: str, prefix: str, capacity: int) -> int:
        """Start offset of the prefix window: the sticky anchor while it fits, else re-anchored
        so that a quarter of the budget is left to type into before the next move."""
        anchor = self._anchor
        if (anchor is not None and anchor.path == path and self._anchor_valid(anchor, prefix)
                and len(self.encode(lead + prefix[anchor.offset:])) <= capacity):
            return anchor.offset
        if len(prefix) <= capacity * CHARS_PER_TOKEN_BOUND and \
                len(self.encode(lead + prefix)) <= capacity:
            start = 0
        else:
            start = self._fit_tail(lead, prefix, max(capacity - self.step, capacity // 2))
        line_end = prefix.find("\n", start)
        self._anchor = _Anchor(path, start, prefix.count("\n", 0, start),
                               prefix[start:line_end if line_end >= 0 else len(prefix)])
        return start

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
        base = max(len(prefix) - room * CHARS_PER_TOKEN_BOUND, 0)
        starts = [base + s for s in self._token_starts(prefix[base:])]
        first = starts[-room] if 0 < room <= len(starts) else (base if room else len(prefix))
        cut = first if first == 0 or prefix[first - 1] == "\n" else prefix.find("\n", first) + 1
        cut = cut or first  # one huge line: cut inside it, at a token boundary
        while cut < len(prefix) and len(self.encode(lead + prefix[cut:])) > limit:
            nxt = prefix.find("\n", cut) + 1
            cut = nxt if nxt > cut else _next_start(starts, cut, len(prefix))
        return cut

    # --------------------------------------------------------------------------- healing
    def _healed_piece(self, lead: str, window: str) -> tuple[_Piece, str]:
        """The prefix piece cut back to the start of its last pre-token, and the cut text."""
        text = lead + window
        cut = self._heal_cut(text, len(lead)) if self.heal and window else len(text)
        return _Piece(text[:cut], self.encode(text[:cut])), text[cut:]

    def _heal_cut(self, text: str, floor: int) -> int:
        tail_start = max(len(text) - 4 * MAX_HEAL_CHARS, floor)
        tail = text[tail_start:]
        pre = self.tokenizer.backend_tokenizer.pre_tokenizer.pre_tokenize_str(tail)
        cut = tail_start + pre[-1][1][0] if pre else len(text)
        if len(text) - cut > MAX_HEAL_CHARS:
            cut = tail_start + self._token_starts(tail)[-1]
        return max(cut, floor)


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


def _next_start(starts: list[int], after: int, end: int) -> int:
    return next((s for s in starts if s > after), end)
