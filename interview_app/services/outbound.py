"""One outbound HTTP request to a system we notify, and the sentence an admin reads when it fails.

Signed webhooks (``services/webhooks.py``) and Greenhouse's completion PATCH
(``services/greenhouse.py``) send the same way: httpx with :data:`TIMEOUT_SECONDS` per network
operation, redirects never followed (a redirect could carry a signed body or credentials somewhere
the admin did not name), at most :data:`MAX_BODY_IN_ERROR` characters of a failed answer's body
read and kept. Each caller keeps its own attempt bookkeeping; this module only says what one
attempt got back.

Framework-free: no reflex import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import httpx

#: Per network operation (connect, write, each read) of one request.
TIMEOUT_SECONDS = 10.0
#: At most this much of a failed answer's body goes into the error sentence.
MAX_BODY_IN_ERROR = 200

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def short(text: str, limit: int) -> str:
    """``text`` on one line (control characters and runs of white space folded), cut to ``limit`` characters."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def open_client(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The client every attempt is sent with; ``transport`` replaces httpx's network transport (tests)."""
    return httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, transport=transport)


def _read_head(response: httpx.Response) -> str:
    """At most :data:`MAX_BODY_IN_ERROR` characters of an answer's body, reading no more than needed."""
    head = b""
    for chunk in response.iter_bytes():
        head += chunk
        if len(head) >= MAX_BODY_IN_ERROR * 4:
            break
    return head.decode("utf-8", "replace")[:MAX_BODY_IN_ERROR]


def send_once(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    recipient: str,
    headers: Mapping[str, str],
    content: bytes | None = None,
    redirect_advice: str = "",
) -> tuple[int | None, str]:
    """Send one request; (HTTP status or None, "" on a 2xx answer or a short sentence on what went wrong).

    ``recipient`` names who could not be reached ("The endpoint", "Greenhouse");
    ``redirect_advice`` is what the admin should do about a redirect, if there is something to do.
    """
    try:
        with client.stream(method, url, content=content, headers=headers) as response:
            code = response.status_code
            if 200 <= code < 300:
                return code, ""
            if 300 <= code < 400:
                return code, f"HTTP {code}: redirects are not followed" + (f"; {redirect_advice}." if redirect_advice else ".")
            head = short(_read_head(response), MAX_BODY_IN_ERROR)
            return code, f"HTTP {code}" + (f": {head}" if head else "")
    except httpx.TimeoutException as err:
        return None, f"No answer within {TIMEOUT_SECONDS:g} s ({err.__class__.__name__})."
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError, ValueError) as err:
        detail = short(str(err), MAX_BODY_IN_ERROR)
        return None, f"{recipient} could not be reached ({err.__class__.__name__}{': ' + detail if detail else ''})."


__all__ = ["MAX_BODY_IN_ERROR", "TIMEOUT_SECONDS", "open_client", "send_once", "short"]
