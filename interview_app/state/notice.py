"""The admin pages' transient notices ("Saved …", "Candidate deleted."): set by handlers, shown as toasts.

A handler that returned ``rx.toast(...)`` sent the browser the toast call as JavaScript text, which
Reflex's state.js runs with ``eval()`` — so every admin page needed ``'unsafe-eval'`` in its CSP.
Instead a handler calls :meth:`NoticeState._notify`: the sentence, its kind and a new ``notice_seq``
travel as plain state, and ``components.notice.notice_toaster`` (in every admin page's frame) shows
each new one once through sonner — the same toast, at the same place, as ``rx.toast`` gave.

``AdminState`` derives from this state, so every admin state sets the notice on its own ``self``;
being the parent, it is not emptied when :class:`~interview_app.state.auth.AdminAuthorityMiddleware`
resets the admin states, so a tab's counter only ever grows.
"""

from __future__ import annotations

from typing import Literal

import reflex as rx

NoticeKind = Literal["success", "error", "info"]


class NoticeState(rx.State):
    """The latest notice of this tab; ``notice_seq`` counts them, so the page knows a new one from an old one."""

    notice_message: str = ""
    notice_kind: str = "success"
    notice_seq: int = 0

    def _notify(self, message: str, kind: NoticeKind = "success") -> None:
        """Show ``message`` (a sentence) as a ``kind`` toast once, on the page this tab shows next."""
        self.notice_message, self.notice_kind = message, kind
        self.notice_seq += 1
