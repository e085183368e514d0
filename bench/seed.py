"""Fast synthetic data in PostgreSQL with ``generate_series`` (P2, P3).

Production creates the indexes with the schema (Alembic) and inserts into indexed tables.
For speed the seed drops the interview/candidate secondary indexes, loads with foreign-key
triggers off (``session_replication_role = replica``), then recreates exactly the same index
definitions (read back from ``pg_indexes``) and runs ANALYZE, so the measured queries see the
production schema and fresh statistics.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa

STATUS_MIX = (  # share of interviews per status (sums to 100)
    ("completed", 70),
    ("invited", 15),
    ("expired", 8),
    ("in_progress", 2),
    ("processing", 1),
    ("failed", 2),
    ("cancelled", 2),
)
SURNAMES = [f"Surname{i:03d}" for i in range(100)]  # each surname on 1 % of candidates
FIRST_NAMES = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus"]
TEMPLATES = 5
QUESTIONS = [
    {"id": f"q{i}", "text": f"Tell me about a time you {topic}.", "competency": topic, "follow_up_guidance": "Ask for a concrete example."}
    for i, topic in enumerate(["led a project", "fixed a hard bug", "disagreed with a colleague", "learned a new tool"], 1)
]
CANDIDATES_PER_INTERVIEW = 0.2  # 1M interviews -> 200k candidates (the admin docs' figures)


def candidate_email_part(c: int) -> str:
    """The unique part of seeded candidate ``c``'s email (what an admin searching for that person types)."""
    return hashlib.md5(str(c).encode()).hexdigest()[:10]


def bench_token(i: int) -> str:
    """The raw invite token of seeded interview ``i`` (its SHA-256 is stored, as the app does)."""
    return f"benchtoken{i:010d}XXXXXXXXXXXXXXXXXXXXXX"


def _status_case() -> str:
    parts, upper = [], 0
    for status, share in STATUS_MIX:
        upper += share
        parts.append(f"WHEN (i * 37) % 100 < {upper} THEN '{status}'")
    return "CASE " + " ".join(parts) + " END"


def seed(url: str, interviews: int, *, hashed_tokens: int = 0) -> dict[str, float]:
    """Insert ``interviews`` interviews (+ candidates, templates). The first ``hashed_tokens``
    interviews carry ``sha256(bench_token(i))`` as invite hash and are ``invited`` with a future
    expiry (P2 starts them); the rest get unique filler hashes."""
    import time

    candidates = max(1, int(interviews * CANDIDATES_PER_INTERVIEW))
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    timings: dict[str, float] = {}
    try:
        with engine.connect() as conn:
            t0 = time.perf_counter()
            indexdefs = [
                (name, definition)
                for name, definition in conn.execute(
                    sa.text(
                        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('interview', 'candidate') "
                        "AND indexname NOT LIKE '%pkey'"
                    )
                )
            ]
            for name, _ in indexdefs:
                conn.execute(sa.text(f'DROP INDEX "{name}"'))
            conn.execute(sa.text("SET session_replication_role = replica"))
            conn.execute(
                sa.text(
                    "INSERT INTO interview_template (title, job_description, language, duration_limit_minutes, persona, greeting,"
                    " questions, rubric, allow_text_mode, archived, created_at, updated_at)"
                    " SELECT 'Template ' || t, 'Job ' || t, 'en', 30, '', '', :questions, '[]', true, false, now(), now()"
                    " FROM generate_series(1, :n) t"
                ),
                {"n": TEMPLATES, "questions": json.dumps(QUESTIONS)},
            )
            first = "ARRAY[" + ",".join(f"'{n}'" for n in FIRST_NAMES) + "]"
            conn.execute(
                sa.text(
                    "INSERT INTO candidate (id, name, email, external_ref, created_at)"
                    f" SELECT c, ({first})[1 + c % {len(FIRST_NAMES)}] || ' Surname' || lpad(((c * 7) % {len(SURNAMES)})::text, 3, '0'),"
                    f" lower(({first})[1 + c % {len(FIRST_NAMES)}]) || '.' || substr(md5(c::text), 1, 10) || '@example.com', '',"
                    " now() - (c || ' seconds')::interval"
                    " FROM generate_series(1, :n) c"
                ),
                {"n": candidates},
            )
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('candidate', 'id'), :n)"), {"n": candidates})
            # Newest first is i = 1; two years of history spread evenly.
            step_seconds = 2 * 365 * 86400 / max(interviews, 1)
            conn.execute(
                sa.text(
                    "INSERT INTO interview (id, candidate_id, template_id, status, mode, invite_token_hash, invite_expires_at,"
                    " created_at, updated_at)"
                    f" SELECT gen_random_uuid(), 1 + (i::bigint * 7919) % :candidates, 1 + i % {TEMPLATES},"
                    f" CASE WHEN i <= :hashed THEN 'invited' ELSE {_status_case()} END, 'voice',"
                    " md5(i::text) || md5('bench' || i::text), now() + interval '30 days',"
                    " now() - (i * :step) * interval '1 second', now() - (i * :step) * interval '1 second'"
                    " FROM generate_series(1, :n) i"
                ),
                {"candidates": candidates, "n": interviews, "step": step_seconds, "hashed": hashed_tokens},
            )
            timings["load_s"] = time.perf_counter() - t0
            if hashed_tokens:
                # Real token hashes for the rows P2 starts (created_at orders them: i=1 is newest).
                rows = [{"i": i, "h": hashlib.sha256(bench_token(i).encode()).hexdigest()} for i in range(1, hashed_tokens + 1)]
                conn.execute(sa.text("CREATE TEMP TABLE bench_tokens (i int, h text)"))
                conn.execute(sa.text("INSERT INTO bench_tokens VALUES (:i, :h)"), rows)
                conn.execute(
                    sa.text(
                        "UPDATE interview SET invite_token_hash = bench_tokens.h FROM bench_tokens"
                        " WHERE interview.invite_token_hash = md5(bench_tokens.i::text) || md5('bench' || bench_tokens.i::text)"
                    )
                )
            conn.execute(sa.text("SET session_replication_role = origin"))
            t1 = time.perf_counter()
            for _, definition in indexdefs:
                conn.execute(sa.text(definition))
            conn.execute(sa.text("ANALYZE"))
            timings["index_s"] = time.perf_counter() - t1
    finally:
        engine.dispose()
    return timings
