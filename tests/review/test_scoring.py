"""The typed scores of services/scoring.py: what ``evaluation.scores`` stores, and reading it back.

``CriterionScore.model_dump(mode="json")`` is the stored and sent shape (webhooks and Greenhouse read
the column), so these tests pin its keys and their order, and that rows with fewer keys still read.
"""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import ValidationError

from interview_app.contracts import CriterionScore, EvidenceQuote, RubricCriterion, TranscriptSegment
from interview_app.services.scoring import (
    EvaluationInput,
    assess_evidence,
    gated_scores,
    insufficient_entry,
    parse_answer,
    read_scores,
    stored_scores,
    weighted_score,
)

SCORED_KEYS = ["criterion", "weight", "scale_min", "scale_max", "score", "rationale", "evidence", "dropped_evidence"]
GATE_KEYS = ["insufficient_evidence", "reason", "words", "answered_questions"]
RUBRIC = [
    RubricCriterion(name="Technical depth", weight=2, scale_min=1, scale_max=5),
    RubricCriterion(name="Communication", weight=1, scale_min=0, scale_max=10),
]
ANSWER = "I built the billing pipeline at Acme. It processed two million invoices a month on PostgreSQL and a queue."


def _input() -> EvaluationInput:
    segments = [
        TranscriptSegment(seq=0, speaker="agent", text="Tell me about a system you built.", start_ms=0, end_ms=3000),
        TranscriptSegment(seq=1, speaker="candidate", text=ANSWER, start_ms=4000, end_ms=9000),
    ]
    return EvaluationInput(interview_id=uuid.uuid4(), role_title="Backend engineer", job_description="", rubric=RUBRIC, segments=segments)


def test_a_scored_entry_is_stored_with_exactly_the_keys_it_always_had() -> None:
    answer = {
        "criteria": [
            {"name": "technical depth", "score": 4, "rationale": "Numbers. ", "evidence": ["two million invoices a month", "made up"]},
            {"name": "Communication", "score": 7.0, "rationale": "Clear."},
        ]
    }
    outcome = parse_answer(json.dumps(answer), _input())
    depth, communication = outcome.scores
    assert depth.evidence == [EvidenceQuote(quote="two million invoices a month", seq=1, start_ms=4000, speaker="candidate")]
    assert communication.score == 7 and outcome.dropped_quotes == 1
    stored = stored_scores(outcome.scores)
    assert stored[0] == {
        "criterion": "Technical depth", "weight": 2.0, "scale_min": 1, "scale_max": 5, "score": 4, "rationale": "Numbers. ",
        "evidence": [{"quote": "two million invoices a month", "seq": 1, "start_ms": 4000, "speaker": "candidate"}],
        "dropped_evidence": 1,
    }  # fmt: skip
    assert [list(entry) for entry in stored] == [SCORED_KEYS, SCORED_KEYS]  # no gate keys on a scored entry
    assert list(stored[0]["evidence"][0]) == ["quote", "seq", "start_ms", "speaker"]


def test_an_insufficient_entry_adds_the_gates_keys() -> None:
    report = assess_evidence(_input().segments, [], RUBRIC)  # 19 candidate words: too few for the interview
    assert not report.enough
    stored = stored_scores(gated_scores(RUBRIC, report, []))
    assert [list(entry) for entry in stored] == [SCORED_KEYS + GATE_KEYS] * 2
    assert stored[1] | {"reason": "", "rationale": ""} == {
        "criterion": "Communication", "weight": 1.0, "scale_min": 0, "scale_max": 10, "score": None, "rationale": "", "evidence": [],
        "dropped_evidence": 0, "insufficient_evidence": True, "reason": "", "words": 19, "answered_questions": 1,
    }  # fmt: skip
    assert stored[1]["reason"] == stored[1]["rationale"] == report.criteria[1].reason
    assert insufficient_entry(RUBRIC[0], "Nothing said.").model_dump(mode="json")["words"] == 0


def test_stored_rows_read_back_and_store_again_unchanged() -> None:
    scored = CriterionScore(
        criterion="Depth", weight=2, score=3, rationale="r", evidence=[EvidenceQuote(quote="a queue", seq=4, start_ms=16000)]
    )
    rows = json.loads(json.dumps(stored_scores([scored, insufficient_entry(RUBRIC[1], "Too little.")])))
    assert read_scores(rows)[0] == scored
    assert json.dumps(stored_scores(read_scores(rows))) == json.dumps(rows)


def test_rows_with_fewer_keys_read_with_the_contracts_defaults() -> None:
    # As test fixtures and retention's own test store them: no weight, scale or quote position.
    [entry] = read_scores(
        [{"criterion": "Technical depth", "score": 4, "evidence": [{"quote": "two million invoices", "seq": 1}]}, None, "x"]
    )
    assert (entry.weight, entry.scale_min, entry.scale_max, entry.dropped_evidence, entry.insufficient_evidence) == (1.0, 1, 5, 0, False)
    assert entry.evidence == [EvidenceQuote(quote="two million invoices", seq=1, start_ms=0, speaker="candidate")]
    assert read_scores(None) == [] and read_scores([entry]) == [entry]
    assert weighted_score([entry]) == pytest.approx(0.75)
    with pytest.raises(ValidationError):
        read_scores([{"criterion": "Depth", "score": "four"}])


def test_weighted_score_reads_the_typed_fields() -> None:
    entries = [
        CriterionScore(criterion="A", weight=2, scale_min=1, scale_max=5, score=5),
        CriterionScore(criterion="B", weight=1, scale_min=0, scale_max=10, score=0),
        CriterionScore(criterion="C", weight=5, score=None),
        CriterionScore(criterion="D", weight=5, score=1, insufficient_evidence=True),
        CriterionScore(criterion="E", weight=1, scale_min=3, scale_max=3, score=3),  # a one-point scale counts as its minimum
    ]
    assert weighted_score(entries) == pytest.approx((2 * 1.0 + 1 * 0.0 + 1 * 0.0) / 4)
    assert weighted_score(entries[2:4]) is None and weighted_score([]) is None
