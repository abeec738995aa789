# pcp-pmda-llm progress hook for GuideLLM 0.5-0.8, loaded by `pcp llm run` through
# PYTHONPATH into every Python process of the run (see man pcp-llm, RUN AND MARK).
#
# It does nothing unless the process imports guidellm.benchmark.benchmarker; then it wraps the
# progress tracker GuideLLM's Benchmarker.run is given (or None) in one that passes every
# callback on unchanged and appends a JSON line to the run file ($PCP_LLM_RUN): at most one a
# second while a benchmark runs, and one at every status change. Values are read with
# GuideLLM's own progress state class where it has one, from the accumulator and scheduler
# state it hands to on_benchmark_update. Any error in the hook is swallowed: it must never
# change what GuideLLM does.

import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import time

_TARGET = "guidellm.benchmark.benchmarker"
_PATH = os.environ.get("PCP_LLM_RUN")
_INTERVAL = 1.0


class _Writer:
    def __init__(self, path):
        self.file = None
        try:
            self.file = open(path, "a", encoding="utf-8")
        except OSError:
            pass

    def write(self, record):
        if self.file is None:
            return
        record["t"] = time.time()
        try:
            self.file.write(json.dumps(record, separators=(",", ":")) + "\n")
            self.file.flush()
        except (OSError, ValueError, TypeError):
            pass


def _number(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if v == v and v not in (float("inf"), float("-inf")) else None


def _split_strategy(text):
    name, _, target = text.partition("@")
    return name, _number(target) if target else None


class _Progress:
    """Passes every callback to `inner` (may be None) and writes the run file."""

    def __init__(self, inner, writer):
        self._inner = inner
        self._w = writer
        self._index = 0
        self._count = None
        self._strategy = None
        self._state = None
        self._status = None
        self._last = 0.0
        self._started = 0.0

    def __getattr__(self, name):
        return getattr(self._inner, name)

    async def _forward(self, name, *args):
        method = getattr(self._inner, name, None) if self._inner is not None else None
        if method is not None:
            await method(*args)

    def _guarded(self, fn, *args):
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - the hook must never break the benchmark
            pass

    def _task_state(self, strategy):
        try:
            from guidellm.benchmark.progress import _GenerativeProgressTaskState
        except Exception:  # noqa: BLE001
            return None
        try:
            state = _GenerativeProgressTaskState(strategy_type=getattr(strategy, "type_", ""))
            state.start(strategy)
            return state
        except Exception:  # noqa: BLE001
            return None

    def _line(self, status, scheduler_state=None):
        name, target = _split_strategy(str(self._strategy))
        rec = {
            "ev": "progress",
            "index": self._index,
            "strategy": name,
            "status": status,
            "elapsed": round(time.monotonic() - self._started, 3),
        }
        if target is not None:
            rec["strategy_target"] = target
        if self._count:
            rec["count"] = self._count
        s = self._state
        if s is not None:
            for key, attr in (
                ("successful", "successful_requests"),
                ("errored", "errored_requests"),
                ("incomplete", "cancelled_requests"),
            ):
                v = getattr(s, attr, None)
                if isinstance(v, int):
                    rec[key] = v
            # Means and rates are 0.0 until a request completed: no value rather than 0.
            if status not in ("pending", "started") and rec.get("successful", 0) > 0:
                for key, attr in (
                    ("requests_per_s", "requests_per_second"),
                    ("output_tokens_per_s", "output_tokens_rate"),
                    ("total_tokens_per_s", "total_tokens_rate"),
                    ("ttft_ms", "time_to_first_token"),
                    ("itl_ms", "inter_token_latency"),
                    ("latency_s", "request_latency"),
                ):
                    v = _number(getattr(s, attr, None))
                    if v is not None:
                        rec[key] = v
        elif scheduler_state is not None:
            for key, attr in (
                ("successful", "successful_requests"),
                ("errored", "errored_requests"),
                ("incomplete", "cancelled_requests"),
            ):
                v = getattr(scheduler_state, attr, None)
                if isinstance(v, int):
                    rec[key] = v
        if status in ("compile", "completed"):
            rec["in_flight"] = 0
        elif scheduler_state is not None:
            v = getattr(scheduler_state, "processing_requests", None)
            if isinstance(v, int):
                rec["in_flight"] = v
        self._w.write(rec)
        self._status = status
        self._last = time.monotonic()

    def _initialize(self, profile):
        types = getattr(profile, "strategy_types", None)
        if types:
            self._count = len(list(types))
        try:
            from importlib.metadata import version

            self._w.write({"ev": "info", "tool_version": version("guidellm")})
        except Exception:  # noqa: BLE001
            pass

    async def on_initialize(self, profile):
        self._guarded(self._initialize, profile)
        await self._forward("on_initialize", profile)

    def _start(self, strategy):
        self._index += 1
        self._strategy = strategy
        self._started = time.monotonic()
        self._state = self._task_state(strategy)
        self._line("pending")

    async def on_benchmark_start(self, strategy):
        self._guarded(self._start, strategy)
        await self._forward("on_benchmark_start", strategy)

    def _update(self, accumulator, scheduler_state):
        status = getattr(getattr(accumulator, "timings", None), "status", None) or "active"
        status = str(status)
        if status == self._status and time.monotonic() - self._last < _INTERVAL:
            return
        if self._state is not None:
            self._state.update(accumulator, scheduler_state)
        self._line(status, scheduler_state)

    async def on_benchmark_update(self, accumulator, scheduler_state):
        self._guarded(self._update, accumulator, scheduler_state)
        await self._forward("on_benchmark_update", accumulator, scheduler_state)

    async def on_benchmark_compile(self):
        self._guarded(self._line, "compile")
        await self._forward("on_benchmark_compile")

    def _complete(self, benchmark):
        if self._state is not None:
            self._state.complete(benchmark)
        self._line("completed")

    async def on_benchmark_complete(self, benchmark):
        self._guarded(self._complete, benchmark)
        await self._forward("on_benchmark_complete", benchmark)

    async def on_finalize(self):
        await self._forward("on_finalize")


def _patch(module):
    bench = getattr(module, "Benchmarker", None)
    run = getattr(bench, "run", None)
    if run is None or getattr(run, "_pcp_llm_hook", False):
        return
    import functools
    import inspect

    signature = inspect.signature(run)
    if "progress" not in signature.parameters:
        return
    writer = _Writer(_PATH)

    @functools.wraps(run)
    def wrapped(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
            bound.arguments["progress"] = _Progress(bound.arguments.get("progress"), writer)
            return run(*bound.args, **bound.kwargs)
        except TypeError:
            return run(*args, **kwargs)

    wrapped._pcp_llm_hook = True
    bench.run = wrapped


class _Loader(importlib.abc.Loader):
    def __init__(self, inner):
        self._inner = inner

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        self._inner.exec_module(module)
        try:
            _patch(module)
        except Exception:  # noqa: BLE001
            pass


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != _TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader)
                return spec
        return None


def _chain_next_sitecustomize():
    """Runs the sitecustomize this one hides (the next on sys.path), if there is one."""
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


if _PATH:
    sys.meta_path.insert(0, _Finder())
try:
    _chain_next_sitecustomize()
except Exception:  # noqa: BLE001
    pass
