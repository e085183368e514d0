"""The PostgreSQL pool pings a connection only when it sat idle, and replaces a dead one unseen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from interview_app import db

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(pg_migrated_url: str) -> Iterator[sa.Engine]:
    engine = db.make_engine(pg_migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the pool's pings (the dialect's ``do_ping``) on ``engine``."""
    seen: list[int] = []
    real = engine.dialect.do_ping

    def counting(dbapi_conn) -> bool:
        seen.append(1)
        return real(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return seen


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_reused_at_once_is_not_pinged(engine: sa.Engine, pings: list[int]) -> None:
    first = _backend_pid(engine)
    for _ in range(5):
        assert _backend_pid(engine) == first  # the same pooled connection each time
    assert pings == []


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(
    engine: sa.Engine, pings: list[int], pg_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(engine)
    admin = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # what a restarted server or a proxy's idle timeout does to it
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar_one()
    admin.dispose()
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # "idle for long enough"

    second = _backend_pid(engine)  # no error reaches the caller

    assert second != first
    assert len(pings) == 1  # the dead connection's ping; the fresh one is not pinged
    assert _backend_pid(engine) == second and len(pings) == 2  # idle again (threshold 0): pinged, alive, kept
