"""A local HTTP receiver for the notifier's webhooks: real HTTP, scripted answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; `fail(path, [503, ...])` answers those codes first, then 200.
    A scripted 0 answers 200 only after `slow_seconds`: later than the sender waits."""

    hits: list[Hit] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    slow_seconds: float = 2.5

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail(self, path: str, codes: list[int]) -> None:
        with self.lock:
            self.script[path] = list(codes)

    def answer(self, hit: Hit) -> int:
        with self.lock:
            self.hits.append(hit)
            codes = self.script.get(hit.path)
            return codes.pop(0) if codes else 200

    def matching(self, predicate: Callable[[Hit], bool]) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if predicate(h)]


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hit = Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            code = receiver.answer(hit)
            if code == 0:
                time.sleep(receiver.slow_seconds)
                code = 200
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server
