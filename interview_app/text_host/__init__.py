"""Text interviews live in this process: the agent's ``TextInterview`` hosted for the chat page.

The in-process runtime of the text interview (it imports livekit.agents and ``agent/``); the
database steps it takes are :mod:`interview_app.services.text_interviews`, the page's state is
:mod:`interview_app.state.text_interview`.

- :mod:`~interview_app.text_host.host` — :class:`TextInterviewHost` (open, send, end, leases,
  sweeper, orphans), :func:`get_host`, :func:`text_interview_sweeper`;
- :mod:`~interview_app.text_host.session` — one running interview, its :class:`Snapshot` and the
  notification its page awaits;
- :mod:`~interview_app.text_host.output` — the session's transcription output the streamed
  reply arrives through.
"""

from interview_app.services.text_interviews import ORPHAN_REASON, RESULT_SOURCE, TextInterviewError
from interview_app.text_host.host import TextInterviewHost, get_host, text_interview_sweeper
from interview_app.text_host.session import ChatLine, Snapshot

__all__ = [
    "ORPHAN_REASON",
    "RESULT_SOURCE",
    "ChatLine",
    "Snapshot",
    "TextInterviewError",
    "TextInterviewHost",
    "get_host",
    "text_interview_sweeper",
]
