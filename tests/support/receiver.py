"""Local HTTP servers in threads for tests: a webhook subscriber that records the POSTs it gets, and any
``http.server`` handler served on a free loopback port."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that writes no access log to stderr."""

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` served by a threading HTTP server on a free loopback port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int
    at: float = field(default_factory=time.monotonic)


Answer = Callable[[BaseHTTPRequestHandler, int], None]


def status(code: int, headers: dict[str, str] | None = None) -> Answer:
    """An answer: ``code`` with ``headers`` and an empty body."""

    def answer(handler: BaseHTTPRequestHandler, _: int) -> None:
        handler.send_response(code)
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


@contextlib.contextmanager
def receiver(
    *, fail_first: int = 0, answer: Answer | None = None, delay: float = 0.0
) -> Iterator[tuple[str, list[Received]]]:
    """A webhook subscriber: 500 to its first ``fail_first`` requests, then ``answer`` (default 204),
    after ``delay`` seconds. Yields its URL and the list of the requests it got, in order."""
    received: list[Received] = []
    lock = threading.Lock()

    class Hook(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                n = len(received)
                code = 500 if n < fail_first else 204
                received.append(Received(dict(self.headers.items()), body, code))
            if delay:
                time.sleep(delay)
            (answer if answer is not None and code != 500 else status(code))(self, n)

    with serving(Hook) as url:
        yield f"{url}/hook", received
