"""``python -m bench.fake_livekit``: the tests' fake LiveKit server API in its own process (P2).

Prints one JSON line ({"url", "api_key", "api_secret"}) when listening; stops on SIGTERM/stdin EOF.
Its own process, so neither stack under test nor the load generator shares a GIL with it.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from http.server import ThreadingHTTPServer

from tests.fakes.livekit_server import FakeLiveKitServer

# socketserver's default listen backlog is 5: under load, new connections beyond it wait for
# a 1 s SYN retransmit, which would be measured as server latency. livekit-server's is large.
ThreadingHTTPServer.request_queue_size = 1024


def main() -> None:
    server = FakeLiveKitServer().start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(json.dumps({"url": server.url, "api_key": server.api_key, "api_secret": server.api_secret}), flush=True)
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait(3600)  # bounded: a forgotten fake goes away within the hour
    server.stop()


if __name__ == "__main__":
    main()
