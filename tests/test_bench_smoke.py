"""Each benchmark's code path at a trivial size: it runs and produces its figures (no timing asserted)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from bench.common import BenchResult, table, write_results


def _check(result: BenchResult, names: int) -> None:
    assert not result.error, result.error
    assert len(result.figures) == names
    for figure in result.figures:
        assert figure.value == figure.value, f"{figure.name} is NaN"  # a figure was measured
    assert result.bench in table([result])


@pytest.mark.postgres
def test_p3_admin_list_small(pg_server: str) -> None:
    from bench import p3_admin_list

    result = p3_admin_list.run(small=20, large=60, rounds=1)
    _check(result, 10)
    assert result.raw["seed_large"]["interviews"] == 60


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_p2_start_api_small(pg_server: str) -> None:
    from bench import p2_start_api

    result = p2_start_api.run(workers=1, concurrency=2, per_phase=4, phases=1, warmup=1)
    _check(result, 4)
    assert result.raw["statuses"] == {"python": {"200": 4}, "node": {"200": 4}}


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_p1_turn_overhead_small() -> None:
    from bench import p1_turn_overhead

    _check(p1_turn_overhead.run(turns=1), 2)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_p4_density_small() -> None:
    from bench import p4_density

    # The children, the bare Agent's and the end-of-turn model's measurement at once (≈ 85 s one after
    # another on 2 shared cores, mostly each child's imports and real-time speech): every code path, one wall time.
    result = p4_density.run(
        sizes=(1, 2), turns=1, idle_seconds=0.5, min_turns=1, stagger_seconds=0.2, eot_rounds=2, concurrent_children=True
    )
    _check(result, 12)
    assert result.raw["1"]["idle_cpu_ms_per_session_s"] > 0 and result.raw["2"]["idle_cpu_ms_per_session_s"] > 0


@pytest.mark.postgres
def test_p7_db_load_text_interview(pg_server: str) -> None:
    # The text half only (≈ 10 s of CPU: migrations, the child's imports, one scripted interview);
    # the voice half is bench/p4_pool.py's stack, which `make bench` runs (p4p, p7).
    from bench import p7_db_load

    result = p7_db_load.run(voice=False)
    _check(result, 4)
    text = result.raw["text"]
    assert text["finished"] and text["evaluation"] == "done", text  # the whole flow ran, the model path included
    phases = text["phases"]
    assert phases["invitation"]["by_kind"].get("INSERT", 0) >= 2  # the candidate and the interview rows
    assert phases["interview (open, messages, result)"]["commits"] >= text["messages"]
    assert phases["evaluation"]["by_kind"].get("UPDATE", 0) >= 1  # the job's claim and outcome


def test_results_file_merges_runs(tmp_path: Path) -> None:
    path = tmp_path / "latest.json"
    first = BenchResult("p3")
    first.add("x", 2.0, 1.0, "ms", max_ratio=2.0)
    write_results([first], path)
    second = BenchResult("p2")
    second.add("y", 1.0, 2.0, "req/s", min_ratio=1.0)
    write_results([second], path)
    data = json.loads(path.read_text())
    assert set(data["benchmarks"]) == {"p2", "p3"}
    assert data["benchmarks"]["p3"]["figures"][0]["met"] is True
    assert data["benchmarks"]["p2"]["figures"][0]["met"] is False


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Chromium is not installed")
@pytest.mark.skipif(
    os.environ.get("BENCH_SMOKE_FULL") != "1",
    reason="≈ 45 s (two app builds): runs in `make bench` (BENCH_SMOKE_FULL=1); `make test` builds and loads the same "
    "candidate page in tests/e2e",
)
def test_p5_candidate_page_small() -> None:
    # Builds two Reflex apps (≈ 1 min): the cost of the benchmark's own code path.
    from bench import p5_candidate_page

    result = p5_candidate_page.run(loads=1, warmup=0)
    _check(result, 4)
    assert result.raw["js_bytes"]["candidate"][0] > 0 and result.raw["js_bytes"]["minimal"][0] > 0


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Chromium is not installed")
@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")), reason="espeak-ng and sox speak the answers")
@pytest.mark.skipif(
    os.environ.get("BENCH_SMOKE_FULL") != "1",
    reason="≈ 3 min (two app builds, both agents): runs in `make bench` (BENCH_SMOKE_FULL=1); `make test` runs the same "
    "voice harness in tests/e2e/test_voice.py",
)
def test_p6_voice_latency_small() -> None:
    # Two app builds, both agents, one voice session each with 2 answers (≈ 2-3 min on 2 shared cores).
    from bench import p6_voice_latency

    result = p6_voice_latency.run(sessions=1, turns=2)
    assert not result.error, result.error
    assert len(result.figures) == 4 and result.bench in table([result])
    assert result.raw["turns"]["asked"] == {"A": 2, "B": 2}
    assert len(result.raw["sessions"]["A"]) == 1 and len(result.raw["sessions"]["B"]) == 1
    assert all(s["remote_onsets_ms"] for side in "AB" for s in result.raw["sessions"][side])  # both agents were heard
    assert result.raw["admin_total_ms"], "A's stored Interview.latency has total_ms"
