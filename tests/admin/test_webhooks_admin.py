"""`/admin/webhooks` through its State, the way Reflex runs websocket events: admins only, reads included.

A reviewer (and anyone without a valid session) is refused by every handler and sees no endpoint,
no secret and no delivery; an admin adds an endpoint (the secret shown once), pauses it, rotates
its secret, sends a delivery again and deletes it. The page itself builds with the element ids the
browser tests use.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator

import pytest
import reflex as rx
import sqlalchemy as sa
from sqlmodel import Session, select

from interview_app.models import InterviewEvent, WebhookDelivery, WebhookEndpoint
from interview_app.services.webhooks import EVALUATION_READY, INTERVIEW_COMPLETED, create_endpoint, enqueue
from interview_app.state.admin_webhooks import WebhooksState
from tests.admin.test_admin_state_guards import REFUSED_FOR_CHANGES, _dummy, people, run, state_for  # noqa: F401

URL = "https://ats.example.com/hooks/interviews"


@pytest.fixture(autouse=True)
def clean_webhooks(app_db: sa.Engine) -> Iterator[None]:
    """The PostgreSQL database is shared by the run: no endpoints or deliveries before or after."""

    def clear() -> None:
        with app_db.begin() as conn:
            conn.execute(sa.delete(WebhookDelivery))
            conn.execute(sa.delete(WebhookEndpoint))

    clear()
    yield
    clear()


def _snapshot(session: Session) -> tuple:
    session.expire_all()
    endpoints = [(e.id, e.url, e.secret, e.active, tuple(e.event_types)) for e in session.exec(select(WebhookEndpoint))]
    deliveries = [(d.id, d.status, d.attempts) for d in session.exec(select(WebhookDelivery))]
    return endpoints, deliveries


def _delivered(session: Session, endpoint_id: int) -> WebhookDelivery:
    [delivery] = enqueue(session, INTERVIEW_COMPLETED, {"interview_id": "x"})
    delivery.status = "delivered"
    session.add(delivery)
    session.commit()
    assert delivery.endpoint_id == endpoint_id
    return delivery


@pytest.mark.parametrize("who", REFUSED_FOR_CHANGES)
def test_every_webhook_handler_refuses_reviewers_and_the_signed_out(who: str, people: dict[str, str], session: Session) -> None:  # noqa: F811
    ep = create_endpoint(session, URL, [INTERVIEW_COMPLETED])
    session.commit()
    delivery = _delivered(session, ep.id)
    before = _snapshot(session)
    state = state_for(WebhooksState, people[who], path="/admin/webhooks")
    args = {"endpoint_id": str(ep.id), "delivery_id": str(delivery.id), "active": False, "event_type": EVALUATION_READY, "checked": True}
    for name in sorted(WebhooksState.event_handlers):
        if name in ("setvar", "check_session"):
            continue
        params = [p for p in inspect.signature(WebhooksState.event_handlers[name].fn).parameters.values() if p.name != "self"]
        run(state, name, **{p.name: args.get(p.name, _dummy(p)) for p in params})
    state.form_url = "https://evil.example.com/steal"  # even with a filled-in form (setvar is Reflex's own)
    run(state, "add_endpoint")
    assert _snapshot(session) == before
    assert state.endpoints == [] and state.deliveries == [] and state.secret_shown == ""
    assert ep.secret not in json.dumps(state.dict(), default=str)
    if who == "reviewer":
        assert state.admin_role == "reviewer" and state.can_edit is False  # the page shows the admin-only refusal
        assert state.access_message == "Your role can read interviews but not change this."
    else:
        assert state.admin_email == ""


def test_an_admin_adds_pauses_rotates_sends_again_and_deletes(people: dict[str, str], session: Session) -> None:  # noqa: F811
    state = state_for(WebhooksState, people["admin"], path="/admin/webhooks")
    run(state, "load")
    assert state.endpoints == [] and state.signed_in

    run(state, "set_form_url", value="ftp://ats.example.com/x")
    run(state, "add_endpoint")
    assert state.form_error.startswith("The URL must start with https://") and state.secret_shown == ""

    run(state, "set_form_url", value=URL)
    run(state, "set_form_description", value="Greenhouse sync")
    run(state, "set_form_type", event_type=EVALUATION_READY, checked=False)
    run(state, "set_form_type", event_type="decision.made", checked=True)
    run(state, "set_form_type", event_type="not.a.type", checked=True)  # ignored
    assert state.form_types == [INTERVIEW_COMPLETED, "decision.made"]
    run(state, "add_endpoint")
    assert state.form_error == "" and state.form_url == ""
    assert (state.notice_message, state.notice_kind) == ("Endpoint added. Copy its secret now: it is shown only once.", "success")
    session.expire_all()
    ep = session.exec(select(WebhookEndpoint)).one()
    assert ep.url == URL and ep.event_types == [INTERVIEW_COMPLETED, "decision.made"] and ep.description == "Greenhouse sync"
    assert state.secret_shown == ep.secret and state.secret_for == URL
    assert [(e["url"], e["types"], e["active"]) for e in state.endpoints] == [(URL, "interview.completed, decision.made", "yes")]
    assert all(ep.secret not in json.dumps(row) for row in state.endpoints)  # the list never holds the secret
    created = session.exec(select(InterviewEvent).where(InterviewEvent.kind == "webhook_endpoint_created")).all()
    assert [e.actor for e in created if e.detail.get("endpoint_id") == ep.id] == [state.admin_email]
    run(state, "dismiss_secret")
    assert state.secret_shown == ""

    run(state, "set_endpoint_active", endpoint_id=str(ep.id), active=False)
    session.expire_all()
    assert session.get(WebhookEndpoint, ep.id).active is False and state.endpoints[0]["active"] == ""
    run(state, "set_endpoint_active", endpoint_id=str(ep.id), active=True)

    old = ep.secret
    run(state, "rotate", endpoint_id=str(ep.id))
    session.expire_all()
    assert session.get(WebhookEndpoint, ep.id).secret == state.secret_shown != old

    delivery = _delivered(session, ep.id)
    run(state, "refresh")
    [row] = state.deliveries
    assert (row["id"], row["status"], row["can_send_again"], row["endpoint_url"]) == (str(delivery.id), "delivered", "yes", URL)
    run(state, "send_again", delivery_id=str(delivery.id))
    session.expire_all()
    assert session.get(WebhookDelivery, delivery.id).status == "pending"
    assert state.deliveries[0]["status"] == "pending" and state.deliveries[0]["can_send_again"] == ""
    resent = session.exec(select(InterviewEvent).where(InterviewEvent.kind == "webhook_resent")).all()
    assert [e.actor for e in resent if e.detail.get("delivery_id") == delivery.id] == [state.admin_email]
    shown = state.notice_seq
    run(state, "send_again", delivery_id=str(delivery.id))  # queued already: a sentence, nothing else
    assert "still queued" in state.notice_message and state.notice_kind == "error" and state.notice_seq == shown + 1

    ep_id = ep.id
    run(state, "delete", endpoint_id=str(ep_id))
    session.expire_all()
    assert session.exec(select(WebhookEndpoint)).all() == [] and session.exec(select(WebhookDelivery)).all() == []
    assert state.endpoints == [] and state.deliveries == []
    assert state.notice_message == "Endpoint deleted, with its 1 delivery." and state.notice_kind == "success"
    for handler, endpoint_id in (("rotate", str(ep_id)), ("delete", "not-a-number")):
        run(state, handler, endpoint_id=endpoint_id)
        assert "no longer exists" in state.notice_message and state.notice_kind == "error"


def test_the_page_builds_with_its_element_ids_and_the_nav_links_to_it() -> None:
    from interview_app import routes
    from interview_app.components.admin import admin_page
    from interview_app.pages.admin.webhooks import webhooks_page

    rendered = json.dumps(webhooks_page().render(), default=str)
    for marker in ("webhook-url", "webhook-add", "webhook-secret", "data-delivery-id", "delivery-status", "send-again", "forbidden"):
        assert marker in rendered, marker
    nav = json.dumps(admin_page("x", rx.text("y")).render(), default=str)
    assert routes.ADMIN_WEBHOOKS == "/admin/webhooks" and '"/admin/webhooks"' in nav.replace('\\"', '"') and "Webhooks" in nav
