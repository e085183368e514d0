"""A hostile candidate message in the text interview, in Chromium, against the served app.

``hello <reflex.Var>x</reflex.Var>`` sent twice quickly (the second Enter while the interviewer is
still answering) used to freeze the backend process for good (docs/RELIABILITY.md, R6). The server
must keep answering and the page must show the message; the refused second copy is back in the box.
"""

from __future__ import annotations

import json
import re
import time

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ServedApp
from tests.e2e.test_text_interview import agent_messages, open_chat

TAG_MESSAGE = "hello <reflex.Var>x</reflex.Var>"


def test_a_var_tag_message_sent_twice_quickly_does_not_stop_the_server(served_app: ServedApp, page: Page) -> None:
    link = json.loads(served_app.cli("seed-demo", "--json").stdout)["candidate_link"]
    open_chat(page, link)
    expect(agent_messages(page).first).to_contain_text("Tell me about a backend system", timeout=20_000)

    # Typed and sent twice as fast as a browser can (keyboard typing lets the scripted reply finish first).
    page.locator("#ti-input").evaluate(
        "(box, text) => { for (let i = 0; i < 2; i++) { box.value = text; box.form.requestSubmit(); } }", TAG_MESSAGE
    )

    t0 = time.monotonic()
    assert httpx.get(f"{served_app.url}/healthz", timeout=2).status_code == 200
    assert time.monotonic() - t0 < 2
    expect(page.locator(".ti-candidate").first).to_have_text(TAG_MESSAGE, timeout=10_000)
    expect(page.locator("#ti-typing")).to_have_count(0, timeout=20_000)
    expect(page.locator(".ti-message").last).to_have_class(re.compile("ti-agent"), timeout=20_000)
    if page.locator(".ti-candidate").count() == 1:  # the second Enter landed while the reply was on its way
        expect(page.locator("#ti-error")).to_contain_text("The interviewer is still writing")
        expect(page.locator("#ti-input")).to_have_value(TAG_MESSAGE)
    assert httpx.get(f"{served_app.url}/healthz", timeout=2).status_code == 200
