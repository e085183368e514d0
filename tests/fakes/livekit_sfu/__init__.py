"""A LiveKit-compatible test server (a test double, not an SFU): Twirp API, ``/rtc``, ``/agent``.

See ``server.LiveKitTestServer``; start by hand with ``python -m tests.fakes.livekit_sfu``.
"""

from .server import LiveKitTestServer

__all__ = ["LiveKitTestServer"]
