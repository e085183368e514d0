"""The web process's start-up heap is frozen out of full garbage collections (interview_app/heap.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from interview_app import heap


@pytest.fixture
def unfrozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    gc.unfreeze()
    monkeypatch.setattr(heap, "_frozen_in", None)
    try:
        yield
    finally:
        gc.unfreeze()


def test_serving_the_api_alone_freezes_the_started_heap_once(unfrozen: None, settings_env: object) -> None:
    from interview_app.api import create_api

    assert gc.get_freeze_count() == 0
    with TestClient(create_api()) as client:
        assert client.get("/healthz").status_code == 200
        # imports, FastAPI's routes and models: out of the full collection's sight
        assert gc.get_freeze_count() > 10_000
        frozen = gc.get_freeze_count()
    with TestClient(create_api()):
        pass
    assert gc.get_freeze_count() <= frozen  # once per process: a second start-up freezes nothing more
    assert heap.freeze_startup_heap() == 0


def test_garbage_made_after_the_freeze_is_still_collected(unfrozen: None) -> None:
    heap.freeze_startup_heap()

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a reference cycle: only the collector frees it
    del a, b
    assert gc.collect() >= 2


def test_the_reflex_app_freezes_after_its_other_lifespan_tasks_started() -> None:
    from interview_app.interview_app import app

    tasks = list(app.get_lifespan_tasks())
    assert tasks[-1] is heap.freeze_startup_heap
