"""A LiveKit-compatible test server (a test double, not an SFU): Twirp API, ``/rtc``, ``/agent``.

See ``server.LiveKitTestServer``; start by hand with ``python -m tests.fakes.livekit_sfu``.
"""

import aioice.ice

# aioice (the ICE of aiortc) checks consent (RFC 7675) every ≈ 5 s with one STUN request and no
# retransmission: an answer later than its 0.5 s RTO counts as a failure and six in a row close the
# connection. On a loaded 2-core machine (load average 10-30) that closed every participant's
# connection every 30-50 s and lost the turns around it (bench/README.md, P4p). libwebrtc on the
# clients' side gives up only after 30 s without an answer, and livekit-server's ICE is pion's:
# so this test double tolerates five minutes of late answers (read at each check).
aioice.ice.CONSENT_FAILURES = 60

from .server import LiveKitTestServer  # noqa: E402 - after the consent setting, before aiortc runs

__all__ = ["LiveKitTestServer"]
