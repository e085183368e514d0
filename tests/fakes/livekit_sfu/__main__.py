"""Run the LiveKit test server by hand: ``python -m tests.fakes.livekit_sfu --port 7880``."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from .server import LiveKitTestServer


def main() -> None:
    parser = argparse.ArgumentParser(description="LiveKit-compatible test server (a test double) on one port.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7880)
    parser.add_argument("--api-key", default="devkey")
    parser.add_argument("--api-secret", default="secret")
    parser.add_argument("--webhook-url", action="append", default=[], help="POST LiveKit webhooks here (repeatable)")
    parser.add_argument("--departure-timeout", type=float, default=20.0)
    parser.add_argument("--empty-timeout", type=float, default=300.0)
    parser.add_argument("--disconnect-grace", type=float, default=2.0)
    parser.add_argument("--egress-dir", default=None, help="where recordings without S3 output go")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    server = LiveKitTestServer(
        api_key=args.api_key,
        api_secret=args.api_secret,
        host=args.host,
        port=args.port,
        webhook_urls=args.webhook_url,
        departure_timeout=args.departure_timeout,
        empty_timeout=args.empty_timeout,
        disconnect_grace=args.disconnect_grace,
        egress_dir=args.egress_dir,
    ).start()
    print(f"LiveKit test server ready at {server.ws_url} (api key {args.api_key})", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    server.stop()


if __name__ == "__main__":
    main()
