"""The agent worker's reporter as its own process, so a test can SIGKILL it.

``python -m tests.reliability.reporter_process OUTBOX URL IDS_FILE PRODUCED_LOG``: runs the
outbox sweeper (as the worker's main process does) and, like finished interview jobs, reports
the result of every interview id in IDS_FILE that is not yet in PRODUCED_LOG (a result is
logged as produced once ``report_result`` returned, i.e. it is in the outbox). Signing keys
come from RELIABILITY_KEY / RELIABILITY_SECRET. Runs until killed.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from agent.reporting import Outbox, report_result
from interview_app.contracts import InterviewResult, TranscriptSegment

SEGMENTS = 6


def segment_texts(interview_id: str) -> list[str]:
    """The transcript each interview's result carries (distinct per interview and segment)."""
    return [f"{interview_id} segment {i}: " + ("answer words " * (i + 3)).strip() for i in range(SEGMENTS)]


def result_for(interview_id: str) -> InterviewResult:
    now = datetime.now(UTC)
    return InterviewResult(
        interview_id=uuid.UUID(interview_id),
        outcome="completed",
        end_reason="all questions covered",
        started_at=now,
        ended_at=now,
        segments=[
            TranscriptSegment(seq=i, speaker="agent" if i % 2 == 0 else "candidate", text=t, start_ms=i * 1000, end_ms=i * 1000 + 900)
            for i, t in enumerate(segment_texts(interview_id))
        ],
    )


def main(outbox_dir: str, url: str, ids_file: str, produced_log: str) -> None:
    outbox = Outbox(outbox_dir, url=url, api_key=os.environ["RELIABILITY_KEY"], api_secret=os.environ["RELIABILITY_SECRET"], timeout=3)
    outbox.start_sweeper(interval=0.3)
    log = Path(produced_log)
    done = set(log.read_text().split()) if log.exists() else set()
    with log.open("a") as out:
        for interview_id in Path(ids_file).read_text().split():
            if interview_id in done:
                continue
            report_result(result_for(interview_id), outbox)
            out.write(interview_id + "\n")
            out.flush()
            os.fsync(out.fileno())
            time.sleep(0.02)  # interviews end one after another, not all at once
    while True:  # the sweeper thread keeps delivering until the process is killed
        time.sleep(1)


if __name__ == "__main__":
    main(*sys.argv[1:5])
