"""Demo data for a fresh machine: one admin, one template, one invited candidate."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from interview_app import routes
from interview_app.models import AdminUser, Candidate, Interview, InterviewTemplate
from interview_app.services.auth import create_admin
from interview_app.services.interviews import create_invitation
from interview_app.settings import Settings

DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_ADMIN_PASSWORD = "interview-demo"  # development only; seed-demo refuses production
DEMO_TEMPLATE_TITLE = "Backend Engineer (demo)"

DEMO_QUESTIONS = [
    {
        "id": "q1",
        "text": "Tell me about a backend system you built or maintained that you are proud of. What did it do?",
        "competency": "Experience",
        "follow_up_guidance": "Ask what their own part was and what they would change today.",
        "max_follow_ups": 1,
    },
    {
        "id": "q2",
        "text": "A service you own becomes slow under load. How do you find the cause?",
        "competency": "Debugging",
        "follow_up_guidance": "Ask which measurements they would take first and why.",
        "max_follow_ups": 1,
    },
    {
        "id": "q3",
        "text": "How do you make a database schema change safely while the application keeps running?",
        "competency": "Operations",
        "follow_up_guidance": "Ask how they would roll back if it goes wrong.",
        "max_follow_ups": 1,
    },
]

DEMO_RUBRIC = [
    {"name": "Technical depth", "description": "Explains systems precisely, with trade-offs.", "weight": 2, "scale_min": 1, "scale_max": 5},
    {"name": "Problem solving", "description": "Structured approach, measures before acting.", "weight": 2, "scale_min": 1, "scale_max": 5},
    {"name": "Communication", "description": "Clear, concise, checks understanding.", "weight": 1, "scale_min": 1, "scale_max": 5},
]


@dataclass(frozen=True)
class DemoInfo:
    admin_email: str
    admin_password: str
    candidate_link: str
    interview_id: str
    admin_url: str


def seed_demo(session: Session, settings: Settings) -> DemoInfo:
    """Create the demo admin and template once, and a fresh invited interview each call."""
    if settings.production:
        raise RuntimeError("seed-demo creates an account with a published password; it is refused when APP_ENV=production.")
    if not session.exec(select(AdminUser).where(AdminUser.email == DEMO_ADMIN_EMAIL)).first():
        create_admin(session, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, name="Demo Admin")
    template = session.exec(select(InterviewTemplate).where(InterviewTemplate.title == DEMO_TEMPLATE_TITLE)).first()
    if template is None:
        template = InterviewTemplate(
            title=DEMO_TEMPLATE_TITLE,
            job_description="We build the services behind our hiring platform: Python, PostgreSQL, queues, cloud storage.",
            duration_limit_minutes=20,
            persona="You are Sam, a friendly and precise senior engineer who interviews backend candidates.",
            greeting="Hi {candidate_name}, I'm Sam, the AI interviewer for the {role_title} role.",
            questions=DEMO_QUESTIONS,
            rubric=DEMO_RUBRIC,
        )
        session.add(template)
        session.flush()
    candidate = Candidate(name="Alex Morgan", email="alex.morgan@example.com", external_ref="demo")
    session.add(candidate)
    session.flush()
    interview, raw = create_invitation(session, candidate, template, ttl=timedelta(hours=settings.invite_ttl_hours), actor="seed-demo")
    return DemoInfo(
        admin_email=DEMO_ADMIN_EMAIL,
        admin_password=DEMO_ADMIN_PASSWORD,
        candidate_link=routes.candidate_link(settings.app_url, raw),
        interview_id=str(interview.id),
        admin_url=f"{settings.app_url}{routes.ADMIN}",
    )


def as_dict(info: DemoInfo) -> dict[str, str]:
    return asdict(info)


# --- the demo marker: what `make run` prints on later starts ------------------------------


def _database_identity(database_url: str) -> str:
    return make_url(database_url).render_as_string(hide_password=True)


def marker_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / "demo.json"


def write_marker(settings: Settings, info: DemoInfo | dict[str, str]) -> None:
    """Remember the demo links for this database (the raw token exists nowhere else)."""
    path = marker_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    links = as_dict(info) if isinstance(info, DemoInfo) else info
    path.write_text(json.dumps(links | {"database": _database_identity(settings.database_url)}, indent=2))


def read_marker(session: Session, settings: Settings) -> dict[str, str] | None:
    """The remembered demo links, on today's APP_URL — or None when the marker is missing,
    belongs to another database, or its interview is gone (never a link that cannot work)."""
    try:
        info = json.loads(marker_path(settings).read_text())
        interview_id = uuid.UUID(info["interview_id"])
        token = info["candidate_link"].rstrip("/").rsplit("/", 1)[-1]
        if info.get("database") != _database_identity(settings.database_url):
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if session.get(Interview, interview_id) is None:
        return None
    return {
        "admin_url": f"{settings.app_url}{routes.ADMIN}",
        "admin_email": str(info.get("admin_email", DEMO_ADMIN_EMAIL)),
        "admin_password": str(info.get("admin_password", DEMO_ADMIN_PASSWORD)),
        "candidate_link": routes.candidate_link(settings.app_url, token),
        "interview_id": str(interview_id),
    }
