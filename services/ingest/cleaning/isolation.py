"""Run the HTML extractor in worker processes with hard limits.

trafilatura has no timeout, can take minutes on a pathological page (megabytes, deep nesting) and is
known to keep memory after some pages.  So :func:`extract_html` runs in a small pool of worker
processes (forked from a forkserver that has trafilatura preloaded):

* a page longer than ``max_html_chars`` never reaches a worker (flag ``too_large``);
* a page not done within ``timeout`` seconds gets its worker killed (SIGKILL) and replaced
  (flag ``timeout``); a worker that dies (e.g. past its address-space cap) gives ``extractor_error``;
* a worker retires after ``max_tasks`` pages or once its resident memory passes ``max_rss_mb``,
  so leaked memory goes back to the system;
* when no worker frees up within ``timeout`` seconds the page is not queued further
  (flag ``extractor_busy``).

In every one of those cases the caller gets a :class:`Outcome` with a flag and no extraction, never
an exception; :func:`quick_visible_text` is the cheap, linear fallback the caller can use instead.
"""

from __future__ import annotations

import atexit
import contextlib
import html as html_lib
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from multiprocessing.connection import Connection
from typing import Any, Final

from .html import HtmlExtraction, extract_html

__all__ = ["ExtractionLimits", "ExtractorPool", "Outcome", "default_pool", "quick_visible_text"]

_WORKER_MODULE: Final = "services.ingest.cleaning.isolation"
_STARTUP_TIMEOUT_S: Final = 30.0  # a new worker on a loaded machine: not counted against the page


@dataclass(frozen=True, slots=True)
class ExtractionLimits:
    timeout: float = 10.0  # wall seconds per page
    max_html_chars: int = 2_000_000  # longer pages are not extracted
    workers: int = 2
    max_tasks: int = 200  # pages per worker before it is replaced
    max_rss_mb: int = 768  # a worker whose resident memory grows past this is replaced
    memory_limit_mb: int = 2048  # address-space cap of a worker (0: none)


@dataclass(frozen=True, slots=True)
class Outcome:
    extraction: HtmlExtraction | None
    flag: str | None  # None, "timeout", "too_large", "extractor_error", "extractor_busy"


# --------------------------------------------------------------------------------------------------
# Worker side
# --------------------------------------------------------------------------------------------------


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_main(conn: Connection, memory_limit_mb: int) -> None:
    if memory_limit_mb > 0:
        with contextlib.suppress(ImportError, ValueError, OSError):
            import resource

            limit = memory_limit_mb * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:  # the time limit counts from here: starting a process is not the page's fault
        conn.send(("ready", None, _rss_mb()))
    except (OSError, ValueError):
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        html, url = job
        try:
            result: Any = ("ok", extract_html(html, url=url))
        except MemoryError:
            result = ("error", "MemoryError")
        except Exception as exc:  # the page is bad, the worker is fine
            result = ("error", f"{type(exc).__name__}: {exc}"[:300])
        try:
            conn.send((*result, _rss_mb()))
        except (OSError, ValueError):
            return


# --------------------------------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------------------------------


def _context() -> Any:
    try:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([_WORKER_MODULE])
        return ctx
    except ValueError:  # no forkserver on this platform
        return multiprocessing.get_context("spawn")


class _Worker:
    def __init__(self, ctx: Any, memory_limit_mb: int) -> None:
        parent, child = ctx.Pipe(duplex=True)
        self.conn: Connection = parent
        self.process = ctx.Process(
            target=_worker_main, args=(child, memory_limit_mb), daemon=True, name="newswire-extract"
        )
        self.process.start()
        child.close()
        self.tasks = 0
        self.ready = False

    def wait_ready(self, timeout: float) -> bool:
        """Wait for a new worker's first message (it is up, its limits set)."""
        if not self.ready:
            try:
                self.ready = self.conn.poll(timeout) and self.conn.recv()[0] == "ready"
            except (EOFError, OSError, ValueError):
                return False
        return self.ready

    def stop(self, *, kill: bool) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        if kill and self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=2)
        with contextlib.suppress(ValueError):
            self.process.close()


class ExtractorPool:
    """A thread-safe pool of extraction processes; see the module docstring."""

    def __init__(self, limits: ExtractionLimits | None = None) -> None:
        self.limits = limits or ExtractionLimits()
        self.pid = os.getpid()
        self._ctx = _context()
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._live = 0
        self._closed = False
        self.replaced = 0  # workers killed or retired (for tests and metrics)

    def _acquire(self, timeout: float) -> _Worker | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._closed:
                    return None
                if self._idle:
                    return self._idle.pop()
                if self._live < self.limits.workers:
                    self._live += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
        try:
            return _Worker(self._ctx, self.limits.memory_limit_mb)
        except Exception:
            self._forget()
            raise

    def _forget(self) -> None:
        with self._cond:
            self._live -= 1
            self.replaced += 1
            self._cond.notify()

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            if not self._closed:
                self._idle.append(worker)
                self._cond.notify()
                return
        worker.stop(kill=False)

    def extract(self, html: str, *, url: str | None = None) -> Outcome:
        if len(html) > self.limits.max_html_chars:
            return Outcome(None, "too_large")
        try:
            worker = self._acquire(self.limits.timeout)
        except Exception:  # could not start a process (e.g. out of memory or pids)
            return Outcome(None, "extractor_error")
        if worker is None:
            return Outcome(None, "extractor_busy")
        if not worker.wait_ready(max(_STARTUP_TIMEOUT_S, self.limits.timeout)):
            worker.stop(kill=True)
            self._forget()
            return Outcome(None, "extractor_error")
        try:
            worker.conn.send((html, url))
            ready = worker.conn.poll(self.limits.timeout)
            message = worker.conn.recv() if ready else None
        except (EOFError, OSError, ValueError):
            worker.stop(kill=True)
            self._forget()
            return Outcome(None, "extractor_error")
        if message is None:  # past the time limit: the worker's work is abandoned, the worker killed
            worker.stop(kill=True)
            self._forget()
            return Outcome(None, "timeout")
        status, payload, rss = message
        worker.tasks += 1
        if worker.tasks >= self.limits.max_tasks or rss > self.limits.max_rss_mb:
            worker.stop(kill=False)
            self._forget()
        else:
            self._release(worker)
        if status != "ok":
            return Outcome(None, "too_large" if payload == "MemoryError" else "extractor_error")
        return Outcome(payload, None)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for worker in idle:
            worker.stop(kill=False)


_default: ExtractorPool | None = None
_default_lock = threading.Lock()


def _settings_limits() -> ExtractionLimits:
    from shared.settings import get_settings

    s = get_settings()
    return ExtractionLimits(
        timeout=s.extract_timeout,
        max_html_chars=s.extract_max_html_chars,
        workers=s.extract_workers,
        max_tasks=s.extract_worker_max_tasks,
        max_rss_mb=s.extract_worker_max_rss_mb,
        memory_limit_mb=s.extract_worker_memory_limit_mb,
    )


def default_pool() -> ExtractorPool:
    """The process-wide pool, limits from the settings (a forked child gets a pool of its own)."""
    global _default
    with _default_lock:
        if _default is None or _default.pid != os.getpid():
            _default = ExtractorPool(_settings_limits())
        return _default


@atexit.register
def _close_default() -> None:
    if _default is not None and _default.pid == os.getpid():
        _default.close()


# --------------------------------------------------------------------------------------------------
# Cheap fallback
# --------------------------------------------------------------------------------------------------

_SKIP: Final = frozenset({"script", "style", "noscript", "template", "svg", "head", "iframe", "object"})
_BLOCK: Final = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
        "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol",
        "p", "pre", "section", "table", "td", "th", "tr", "ul", "title",
    }
)  # fmt: skip


class _TextParser(HTMLParser):
    """Linear-time visible text: no tree is built, so nesting depth costs nothing."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.title: list[str] = []
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        if tag == "title":
            self.in_title = True
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self.skip:
            self.skip -= 1
        if tag == "title":
            self.in_title = False
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif not self.skip:
            self.parts.append(data)


def quick_visible_text(html: str, *, max_chars: int) -> tuple[str, str | None]:
    """(visible text, ``<title>``) of the first ``max_chars`` characters of a page, in linear time."""
    parser = _TextParser()
    try:
        parser.feed(html[:max_chars])
        parser.close()
    except Exception:  # HTMLParser is lenient; this is a last resort
        return html_lib.unescape(html[:max_chars]), None
    text = "".join(parser.parts)
    lines = (" ".join(line.split()) for line in text.split("\n"))
    title = " ".join("".join(parser.title).split()) or None
    return "\n".join(line for line in lines if line), title
