"""The component that shows :class:`~interview_app.state.notice.NoticeState`'s notices (notice.jsx)."""

from __future__ import annotations

import reflex as rx

from interview_app.state.notice import NoticeState

_NOTICE = rx.asset("notice.jsx", shared=True)


class NoticeToaster(rx.Component):
    """Renders nothing; calls sonner's ``toast[kind](message)`` once for each new ``seq``.

    The toasts appear in the app's own ``rx.toast.provider`` (``rx.App``'s default toaster, which
    also brings the sonner package notice.jsx imports), so they look and stack exactly as ``rx.toast``'s.
    """

    library = _NOTICE.importable_path
    tag = "NoticeToaster"

    seq: rx.Var[int]
    kind: rx.Var[str]
    message: rx.Var[str]
    hydrated: rx.Var[bool]


def notice_toaster() -> rx.Component:
    """This tab's notices as toasts (once in every admin page's frame)."""
    return NoticeToaster.create(
        seq=NoticeState.notice_seq,
        kind=NoticeState.notice_kind,
        message=NoticeState.notice_message,
        hydrated=rx.State.is_hydrated,
    )
