"""The lifecycle every loopback HTTP test double shares (a ThreadingHTTPServer in a daemon thread), and a recording receiver."""

from __future__ import annotations

import dataclasses
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class ServedInThread:
    """``start()`` (the subclass builds its handler and calls :meth:`_serve`), ``stop()``, ``with``, ``port``."""

    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> Self:
        raise NotImplementedError

    def _serve(self, handler: type[BaseHTTPRequestHandler], *, name: str, port: int = 0) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, f"start() the {type(self).__name__} first"
        return self._server.server_address[1]


@dataclasses.dataclass(frozen=True)
class Received:
    """One request a :class:`RecordingReceiver` got; header names lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class RecordingReceiver(ServedInThread):
    """An HTTP server on 127.0.0.1 that records every request and answers with the answers queued by
    :meth:`answer`, then with the one set by :meth:`answer_always` (200 with no body until then).

    ``url`` is the server's address with ``path``; ``base`` the address alone (both kept after
    ``stop()``, for a test that needs a port nothing listens on). ``delay`` holds each answer back.
    """

    def __init__(self, path: str = "/", *, delay: float = 0.0) -> None:
        self.path = path
        self.delay = delay
        self.requests: list[Received] = []
        self.base = self.url = ""
        self._answers: list[tuple[int, bytes, dict[str, str]]] = []
        self._always: tuple[int, bytes] = (200, b"")
        self._lock = threading.Lock()

    def answer(self, status: int, body: bytes = b"", **headers: str) -> None:
        """Queue the answer to the next request not yet answered."""
        with self._lock:
            self._answers.append((status, body, headers))

    def answer_always(self, status: int, body: bytes = b"") -> None:
        """The answer once the queued ones are used up."""
        with self._lock:
            self._always = (status, body)

    def start(self) -> Self:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append(Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    status, data, extra = receiver._answers.pop(0) if receiver._answers else (*receiver._always, {})
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                pass

        self._serve(Handler, name="recording-receiver")
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + self.path
        return self
