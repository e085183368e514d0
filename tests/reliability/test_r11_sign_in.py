"""R11 — sign-in throttling slows guessers, cannot be reset by them, and never locks out a known admin.

Device cookies (OWASP): a browser an admin signed in with holds a signed cookie, and attempts
from it answer only to its own failures. Untrusted attempts are limited per (email, address),
per address across accounts (never reset by a success) and per account (a doubling backoff,
not a lock). Rules and numbers: the docstring of ``interview_app/services/auth.py``; this suite
uses the production defaults (5 failures, 15 minutes, ×4 per address, 1 s … 300 s).

The clock is injected (``login(..., now=)``), so no test sleeps; each attempt is committed as the
sign-in route commits it. argon2 runs with a small cost here (``cheap_hashes``): the throttle is
under test, not the hash.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import Session, select

from interview_app.models import AdminUser, LoginAttempt, utcnow
from interview_app.services import auth
from interview_app.services.auth import (
    DEVICE_COOKIE_DAYS,
    LoginError,
    LoginPolicy,
    create_admin,
    device_from_cookie,
    issue_device_cookie,
    lockout_remaining,
    login,
)
from tests.reliability.conftest import figure

SECRET = "r11-device-secret-" + "s" * 40
POLICY = LoginPolicy(device_secret=SECRET)
PASSWORD = "correct horse battery"
HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_DUMMY_HASH", hasher.hash("not-a-real-password-" + "x" * 16))


def _email() -> str:
    return f"r11.{uuid.uuid4().hex[:10]}@example.com"


def _address() -> str:
    """A client address no other test (nor another run on the shared PostgreSQL database) uses."""
    return f"2001:db8:{uuid.uuid4().hex[:4]}::{uuid.uuid4().hex[:4]}"


def _admin(session: Session) -> AdminUser:
    user = create_admin(session, _email(), PASSWORD)
    session.commit()
    return user


def _try(session: Session, email: str, password: str, *, client: str, now: datetime, device: str = "") -> LoginError | None:
    """One sign-in attempt, committed as the route commits it; the refusal, or None when it signed in."""
    try:
        login(session, email, password, client=client, policy=POLICY, device=device, now=now)
    except LoginError as err:
        session.commit()
        return err
    session.commit()
    return None


def _guess_for(
    session: Session, email: str, start: datetime, span: timedelta, address: Callable[[], str]
) -> tuple[list[datetime], list[str]]:
    """A guesser who tries again the moment each refusal allows; (times of the wrong guesses recorded, refusal texts)."""
    t, guesses, refusals = start, [], []
    while t < start + span:
        err = _try(session, email, f"guess {len(guesses)} nope", client=address(), now=t)
        assert err is not None
        if err.reason == "wait":
            refusals.append(str(err))
            t += timedelta(seconds=err.wait_seconds)
        else:
            assert err.reason == "wrong"
            guesses.append(t)
            t += timedelta(milliseconds=200)
    return guesses, refusals


def test_a_sign_ins_from_the_address_do_not_reset_its_failures(session: Session) -> None:
    address = _address()
    own = _admin(session)  # the guesser's own valid account
    t = utcnow()
    recorded, first_refused, own_sign_ins = 0, None, 0
    for i in range(38):
        t += timedelta(seconds=2)
        err = _try(session, _email(), "a sprayed guess", client=address, now=t)
        assert err is not None
        if err.reason == "wrong":
            recorded += 1
        elif first_refused is None:
            first_refused = i
        # ...and signs in to their own account from the same address in between.
        own_sign_ins += _try(session, own.email, PASSWORD, client=address, now=t + timedelta(seconds=1)) is None
    final = _try(session, _email(), "a sprayed guess", client=address, now=t + timedelta(seconds=3))
    assert recorded == POLICY.client_max_failures == 20 and first_refused == 20
    assert own_sign_ins == POLICY.client_max_failures - 1  # once the address waits, it waits for every account
    assert final is not None and final.reason == "wait" and final.wait_seconds > 13 * 60 and "minutes" in str(final)
    figure(
        "R11 wrong guesses one address got across 38 accounts (own sign-ins in between)",
        f"{recorded} of 38, then the address waits {final.wait_seconds} s",
    )


def test_b_an_attacker_never_stops_a_known_admin_with_the_device_cookie(session: Session) -> None:
    admin = _admin(session)
    home = _address()
    t = utcnow()
    cookie = issue_device_cookie(admin, SECRET, now=t)
    failures = attempts = admin_refused = untrusted_would_wait = 0
    while failures < 50:
        attempts += 1
        # Every fifth guess comes from the admin's own address, without the cookie.
        err = _try(session, admin.email, f"guess {attempts}", client=home if attempts % 5 == 0 else _address(), now=t)
        assert err is not None
        if err.reason == "wait":
            t += timedelta(seconds=err.wait_seconds)
            continue
        failures += 1
        t += timedelta(milliseconds=200)
        untrusted_would_wait += lockout_remaining(session, admin.email, home, POLICY, now=t) is not None
        admin_refused += _try(session, admin.email, PASSWORD, client=home, device=cookie, now=t) is not None
    assert admin_refused == 0
    assert untrusted_would_wait >= 40  # the same sign-in without the cookie was held up nearly every time
    figure(
        "R11 known-admin sign-ins (device cookie) refused during 50 attacker failures",
        f"0 of 50 (without the cookie: {untrusted_would_wait} of 50 told to wait)",
    )


def test_c_without_the_cookie_the_admin_is_slowed_not_locked(session: Session) -> None:
    admin = _admin(session)
    start = utcnow()
    guesses, _ = _guess_for(session, admin.email, start, 2 * HOUR, _address)
    first_hour = sum(g < start + HOUR for g in guesses)
    second_hour = len(guesses) - first_hour
    # Right after the guesser's latest failure the admin (a new browser, a new address) is told to wait...
    t = guesses[-1] + timedelta(seconds=1)
    err = _try(session, admin.email, PASSWORD, client=_address(), now=t)
    assert err is not None and err.reason == "wait"
    assert 1 <= err.wait_seconds <= POLICY.backoff_cap_seconds < POLICY.lockout_minutes * 60
    assert "Wait 5 minutes" in str(err)
    # ...and after that wait the right password signs in: slowed, not locked for the window.
    assert _try(session, admin.email, PASSWORD, client=_address(), now=t + timedelta(seconds=err.wait_seconds)) is None
    # At the cap a guesser at unlimited addresses gets 3600 / 300 = 12 guesses an hour.
    assert second_hour <= 3600 / POLICY.backoff_cap_seconds + 1
    assert first_hour <= 30
    figure(
        "R11 wrong guesses at one account from unlimited addresses, guessing the moment allowed",
        f"{first_hour} in the first hour, {second_hour} in the second (cap {POLICY.backoff_cap_seconds:.0f} s)",
    )
    figure("R11 longest wait for the admin without a device cookie while guessing goes on", f"{err.wait_seconds} s")


def test_d_a_shared_proxy_address_does_not_stop_admins_with_device_cookies(session: Session) -> None:
    proxy = _address()  # every admin and the attacker arrive from it
    t = utcnow()
    admins = [_admin(session) for _ in range(3)]
    cookies = [issue_device_cookie(a, SECRET, now=t) for a in admins[:2]]
    for i in range(60):
        target = admins[0].email if i % 3 == 0 else _email()
        _try(session, target, "a sprayed guess", client=proxy, now=t)
        t += timedelta(seconds=1)
    untrusted = _try(session, admins[2].email, PASSWORD, client=proxy, now=t)
    assert untrusted is not None and untrusted.reason == "wait"
    for admin, cookie in zip(admins[:2], cookies, strict=True):
        assert _try(session, admin.email, PASSWORD, client=proxy, device=cookie, now=t) is None
    figure(
        "R11 admins with a device cookie signed in behind a proxy after 60 failures from it", "2 of 2 (without the cookie: told to wait)"
    )


def test_e_forged_expired_and_other_admins_device_cookies_are_untrusted(session: Session) -> None:
    admin, other = _admin(session), _admin(session)
    address = _address()
    t = utcnow()
    genuine = issue_device_cookie(admin, SECRET, now=t)
    version, uid, device, issued, mac = genuine.split(".")
    forged = {
        "signed with another key": issue_device_cookie(admin, "another-secret-" + "y" * 40, now=t),
        "expired": issue_device_cookie(admin, SECRET, now=t - timedelta(days=DEVICE_COOKIE_DAYS, seconds=1)),
        "issued an hour ahead": issue_device_cookie(admin, SECRET, now=t + HOUR),
        "user id swapped": ".".join([version, str(other.id), device, issued, mac]),
        "device id swapped": ".".join([version, uid, "0" * 32, issued, mac]),
        "issued time moved": ".".join([version, uid, device, str(int(issued) + 1), mac]),
        "signature changed": genuine[:-1] + ("1" if genuine[-1] == "0" else "0"),
        "signature upper-case": ".".join([version, uid, device, issued, mac.upper()]),
        "version changed": "v2" + genuine[2:],
        "truncated": genuine[:-2],
        "trailing space": genuine + " ",
        "huge": genuine + "0" * 100_000,
        "not a cookie": "null",
        "empty parts": "v1....",
    }
    for name, value in forged.items():
        assert device_from_cookie(value, SECRET, now=t) is None, name
    assert device_from_cookie(genuine, "", now=t) is None
    with pytest.raises(ValueError, match="SECRET_KEY"):
        issue_device_cookie(admin, "")
    others = issue_device_cookie(other, SECRET, now=t)  # valid, but for another account
    assert device_from_cookie(others, SECRET, now=t) == (other.id, others.split(".")[2])
    values = [others, *forged.values()]
    # Wrong guesses carrying these cookies count as untrusted: the address's guesses at this account run out...
    for value in values[: POLICY.max_failures]:
        err = _try(session, admin.email, "a wrong guess", client=address, device=value, now=t)
        assert err is not None and err.reason == "wrong"
    stored = session.exec(select(LoginAttempt.device).where(LoginAttempt.email == admin.email)).all()
    assert stored == [""] * POLICY.max_failures
    # ...and none of them gets the right password past the wait; the genuine cookie does.
    for value in values:
        err = _try(session, admin.email, PASSWORD, client=address, device=value, now=t)
        assert err is not None and err.reason == "wait", value[:80]
    assert _try(session, admin.email, PASSWORD, client=address, device=genuine, now=t) is None
    figure("R11 forged, expired or other admins' device cookies trusted", f"0 of {len(values)}")


def test_f_one_address_gets_few_guesses_at_one_account_and_no_hint_the_email_exists(session: Session) -> None:
    admin = _admin(session)
    start = utcnow()
    address, nobody_address = _address(), _address()
    guesses, refusals = _guess_for(session, admin.email, start, HOUR, lambda: address)
    nobody_guesses, nobody_refusals = _guess_for(session, _email(), start, HOUR, lambda: nobody_address)
    assert len(guesses) <= 4 * POLICY.max_failures
    assert (nobody_guesses, nobody_refusals) == (guesses, refusals)  # an unknown email is answered the same way
    # While the address waits, the right password from it is refused too; the admin elsewhere is not held up.
    owner, guesser = _admin(session), _address()
    for i in range(POLICY.max_failures):
        _try(session, owner.email, f"guess {i} nope", client=guesser, now=start + timedelta(seconds=i))
    t = start + timedelta(minutes=1)
    err = _try(session, owner.email, PASSWORD, client=guesser, now=t)
    assert err is not None and err.reason == "wait" and err.wait_seconds > 13 * 60
    assert _try(session, owner.email, PASSWORD, client=_address(), now=t) is None
    figure("R11 wrong guesses per hour from one address at one account", len(guesses))


def test_a_known_device_waits_after_its_own_failures(session: Session) -> None:
    # A copied device cookie is no master key: the device answers to its own failures.
    admin = _admin(session)
    address = _address()
    t = utcnow()
    cookie = issue_device_cookie(admin, SECRET, now=t)
    for i in range(POLICY.max_failures):
        err = _try(session, admin.email, f"guess {i} nope", client=address, device=cookie, now=t + timedelta(seconds=i))
        assert err is not None and err.reason == "wrong"
    err = _try(session, admin.email, PASSWORD, client=address, device=cookie, now=t + timedelta(minutes=1))
    assert err is not None and err.reason == "wait" and "Wait 14 minutes" in str(err)
    assert _try(session, admin.email, PASSWORD, client=address, device=cookie, now=t + timedelta(minutes=15, seconds=1)) is None
    # Those failures were the device's: an untrusted attempt from the same address is not held up by them.
    other = _admin(session)
    assert _try(session, other.email, PASSWORD, client=address, now=t + timedelta(minutes=1)) is None
