"""What the server knows between messages, free of LSP: settings, open documents,
the model's load state, the one worker thread, per-document cancellation and
the counters that `sc2/status` reports.
"""

from __future__ import annotations

import logging
import statistics
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import memory
from .completion import Completion, CompletionPipeline, Job
from .config import ModelSpec, Settings, camel
from .documents import DocumentStore
from .engine import Engine, ModelLoadError, open_engine

log = logging.getLogger(__name__)


@dataclass
class Counters:
    requests: int = 0
    model_calls: int = 0
    cache_hits: int = 0
    typing_through: int = 0
    cancelled: int = 0
    shown: int = 0
    accepted: int = 0
    accepted_chars: int = 0
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=1000))

    def record(self, completion: Completion) -> None:
        source = completion.stats.get("source")
        self.cancelled += completion.stats.get("stop_reason") == "cancelled"
        self.cache_hits += source == "cache"
        self.typing_through += source == "typing-through"
        self.latencies_ms.append(completion.stats.get("total_ms", 0.0))

    def summary(self) -> dict:
        lat = sorted(self.latencies_ms)
        data = {k: v for k, v in asdict(self).items() if k != "latencies_ms"}
        data["mean_ms"] = round(statistics.fmean(lat), 2) if lat else None
        data["p95_ms"] = round(lat[min(len(lat) - 1, int(0.95 * len(lat)))], 2) if lat else None
        return data


class Session:
    def __init__(self, settings: Settings | None = None):
        # `cli`: the defaults and the command line; `base`: those and initializationOptions.
        # Each didChangeConfiguration is laid over `base`, so none of these is ever lost.
        self.cli = self.base = self.settings = settings or Settings()
        self._target: ModelSpec | None = None  # what the latest load loads
        self.store = DocumentStore()
        self.workspace: Path | None = None
        self.state, self.error = "idle", None
        self.engine: Engine | None = None
        self.pipeline: CompletionPipeline | None = None
        self.counters = Counters()
        self.last_stats: dict = {}
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="sc2-model")
        self._cancels: dict[str, threading.Event] = {}
        self._load_id = 0
        self.shut_down = False

    # ------------------------------------------------------------------ model
    def load(self, progress: Callable[[int, str], None]) -> Future:
        """Load the model on the worker thread; completions wait in line behind it."""
        self._load_id += 1
        self._target = self.settings.model_spec()
        self.state, self.error, self.pipeline = "loading", None, None
        return self._worker.submit(self._load, self._load_id, self._target, progress)

    def _load(self, load_id: int, spec: ModelSpec, progress) -> None:
        try:
            engine = open_engine(spec, progress, kv_reuse=self.settings.kv_reuse,
                                 cache_entries=self.settings.kv_cache_entries)
        except (ModelLoadError, OSError, RuntimeError, ValueError) as exc:
            if load_id == self._load_id:
                self.state, self.error = "error", str(exc)
            raise ModelLoadError(str(exc)) from exc
        if load_id != self._load_id:  # another model was asked for meanwhile: its load follows
            engine.close()
            return
        settings = self.settings  # the latest: settings may change while the model loads
        engine.kv_reuse = settings.kv_reuse
        if self.engine is not None:
            self.engine.close()
        self.engine, self.state = engine, "ready"
        self.pipeline = CompletionPipeline(engine, settings, self.store)

    def apply_settings(self, settings: Settings) -> bool:
        """Adopt new settings; True when they name another model than the one loaded
        or loading (the caller then starts a load). The same model is never loaded
        twice: not when an editor repeats its settings, not while it is loading."""
        changed, self.settings = settings != self.settings, settings
        if settings.model_spec() != self._target:
            return True
        if changed and self.pipeline is not None:
            engine = self.pipeline.engine
            engine.kv_reuse = settings.kv_reuse
            self.pipeline = CompletionPipeline(engine, settings, self.store)
        return False

    # ------------------------------------------------------------- completion
    def begin(self, uri: str) -> threading.Event:
        """A cancel token for a new request; the document's previous request is cancelled."""
        if (previous := self._cancels.get(uri)) is not None:
            previous.set()
        token = self._cancels[uri] = threading.Event()
        return token

    def end(self, uri: str, token: threading.Event) -> None:
        if self._cancels.get(uri) is token:
            del self._cancels[uri]

    def cancel_all(self) -> None:
        for token in self._cancels.values():
            token.set()

    def prepare(self, uri: str, offset: int) -> Completion | Job | None:
        doc = self.store.get(uri)
        if self.pipeline is None or doc is None:
            return None
        self.counters.requests += 1
        return self.pipeline.prepare(doc, offset, self.workspace)

    def run(self, job: Job, cancel: threading.Event) -> Future:
        """The model call on the worker thread; a cancelled job returns at once."""
        self.counters.model_calls += 1
        log.debug("prompt for %s: %r", job.uri, job.prompt.text)
        return self._worker.submit(self.pipeline.run, job, cancel)

    def finished(self, completion: Completion) -> None:
        self.counters.record(completion)
        self.last_stats = completion.stats
        memory.trim(self.counters.requests)

    # ----------------------------------------------------------------- status
    def status(self) -> dict:
        """The load state, or the engine's own when it is loaded (a remote engine whose
        endpoint went away is in error until the endpoint is back)."""
        state, error = self.state, self.error
        if self.engine is not None and state == "ready":
            engine = self.engine.describe()
        else:
            engine = {"engine": self.settings.engine, "model": self.settings.model}
        if state == "ready" and engine.get("state") == "error":
            state, error = "error", engine.get("error")
        return {
            **dict.fromkeys(("device", "quant", "dtype", "memory_mb")),
            **engine,
            "state": state,
            "error": error,
            "settings": {camel(name): value for name, value in asdict(self.settings).items()},
            "counters": self.counters.summary(),
            "last": self.last_stats,
        }

    def shutdown(self) -> None:
        self.shut_down = True
        self.cancel_all()
        self._worker.shutdown(wait=False, cancel_futures=True)
        if self.engine is not None:
            self.engine.close()
