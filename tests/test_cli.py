"""The operator CLI, run as a real subprocess against a real database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, create_engine, select

from interview_app.models import AdminUser, Interview
from interview_app.services.auth import verify_password

ROOT = Path(__file__).resolve().parent.parent


def run_cli(env_db: str, *args: str, stdin: str = "", extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ) | {"DATABASE_URL": env_db, "ENV_FILE": "/nonexistent"} | (extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "interview_app.cli", *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def cli_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run_cli(url, "migrate").returncode == 0
    return url


def test_create_admin_from_stdin(cli_db: str) -> None:
    result = run_cli(cli_db, "create-admin", "Boss@Example.com", stdin="correct horse battery\n")
    assert result.returncode == 0, result.stderr
    with Session(create_engine(cli_db)) as s:
        user = s.exec(select(AdminUser).where(AdminUser.email == "boss@example.com")).one()
        assert verify_password(user.password_hash, "correct horse battery") and user.role == "admin"
        assert "correct horse" not in user.password_hash


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [("not-an-email", "long enough pw", "is not an email address"), ("a@b.co", "short", "at least 10 characters")],
)
def test_create_admin_refuses_bad_input_with_a_sentence(cli_db: str, email: str, password: str, message: str) -> None:
    result = run_cli(cli_db, "create-admin", email, stdin=password + "\n")
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
    with Session(create_engine(cli_db)) as s:
        assert s.exec(select(AdminUser)).all() == []


def test_create_admin_twice_is_refused(cli_db: str) -> None:
    assert run_cli(cli_db, "create-admin", "a@b.co", stdin="long enough pw\n").returncode == 0
    again = run_cli(cli_db, "create-admin", "a@b.co", stdin="long enough pw\n")
    assert again.returncode == 1 and "already exists" in again.stderr


def test_seed_demo_json_prints_a_fresh_invite_each_time(cli_db: str) -> None:
    first = json.loads(run_cli(cli_db, "seed-demo", "--json").stdout)
    second = json.loads(run_cli(cli_db, "seed-demo", "--json").stdout)
    assert set(first) >= {"admin_email", "admin_password", "candidate_link", "interview_id"}
    assert first["candidate_link"] != second["candidate_link"] and first["interview_id"] != second["interview_id"]
    with Session(create_engine(cli_db)) as s:
        assert len(s.exec(select(AdminUser)).all()) == 1
        statuses = [i.status for i in s.exec(select(Interview)).all()]
        assert statuses == ["invited", "invited"]


def test_seed_demo_refused_in_production(cli_db: str) -> None:
    result = run_cli(cli_db, "seed-demo", "--json", extra_env={"APP_ENV": "production", "SECRET_KEY": "p" * 40})
    assert result.returncode == 1 and "refused" in result.stderr


def test_bad_configuration_is_one_line_not_a_traceback(cli_db: str) -> None:
    result = run_cli(cli_db, "migrate", extra_env={"STORAGE_BACKEND": "s3"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "S3_BUCKET" in result.stderr and "Traceback" not in result.stderr


def test_bootstrap_seeds_only_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'boot.db'}"
    first = run_cli(url, "bootstrap")
    assert first.returncode == 0 and "/interview/" in first.stdout
    run_cli(url, "bootstrap")
    with Session(create_engine(url)) as s:
        assert len(s.exec(select(Interview)).all()) == 1
