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


def _printed_link(stdout: str) -> str | None:
    lines = [line.split("Candidate:", 1)[1].strip() for line in stdout.splitlines() if "Candidate:" in line]
    return lines[0] if lines else None


def test_bootstrap_seeds_only_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'boot.db'}"
    data = {"DATA_DIR": str(tmp_path / "data")}
    first = run_cli(url, "bootstrap", extra_env=data)
    assert first.returncode == 0 and "/interview/" in first.stdout
    assert json.loads((tmp_path / "data" / "demo.json").read_text())["candidate_link"] == _printed_link(first.stdout)
    again = run_cli(url, "bootstrap", extra_env=data)
    assert _printed_link(again.stdout) == _printed_link(first.stdout)
    with Session(create_engine(url)) as s:
        assert len(s.exec(select(Interview)).all()) == 1


def test_bootstrap_prints_the_demo_links_on_todays_port_and_only_for_their_database(tmp_path: Path) -> None:
    """The demo links `make run` prints on later starts: on the current PORT, never one from another database."""
    one, two = f"sqlite:///{tmp_path / 'one.db'}", f"sqlite:///{tmp_path / 'two.db'}"
    data = {"DATA_DIR": str(tmp_path / "data")}
    first = _printed_link(run_cli(one, "bootstrap", extra_env=data | {"PORT": "3000"}).stdout)
    assert first is not None and first.startswith("http://127.0.0.1:3000/interview/")
    moved = run_cli(one, "bootstrap", extra_env=data | {"PORT": "8080"})
    assert _printed_link(moved.stdout) == first.replace(":3000/", ":8080/")
    assert "http://127.0.0.1:8080/admin" in moved.stdout
    assert json.loads((tmp_path / "data" / "demo.json").read_text())["candidate_link"] == _printed_link(moved.stdout)

    assert _printed_link(run_cli(two, "bootstrap", extra_env=data).stdout) not in (None, first)  # seeds two.db
    back = run_cli(one, "bootstrap", extra_env=data)  # the marker now belongs to two.db
    assert back.returncode == 0 and _printed_link(back.stdout) is None
    assert "seed-demo" in back.stdout and "/admin" in back.stdout
    fresh = json.loads(run_cli(one, "seed-demo", "--json", extra_env=data).stdout)["candidate_link"]
    assert _printed_link(run_cli(one, "bootstrap", extra_env=data).stdout) == fresh


def test_no_test_writes_into_the_projects_data_folder(tmp_path: Path) -> None:
    """tests/conftest.py points DATA_DIR elsewhere: `make test` leaves `make run`'s demo links alone."""
    import os

    from interview_app.settings import PROJECT_ROOT

    project_marker = PROJECT_ROOT / "data" / "demo.json"
    before = project_marker.read_bytes() if project_marker.exists() else None
    assert run_cli(f"sqlite:///{tmp_path / 'x.db'}", "bootstrap").returncode == 0
    assert (Path(os.environ["DATA_DIR"]) / "demo.json").is_file()
    assert (project_marker.read_bytes() if project_marker.exists() else None) == before
