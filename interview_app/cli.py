"""Operator commands: ``python -m interview_app.cli COMMAND``.

create-admin EMAIL   create an admin (password from stdin, or a prompt on a terminal)
seed-demo [--json]   demo admin + template + a fresh invited interview
migrate              apply database migrations (alembic upgrade head)
bootstrap            migrate, seed demo data when the database is empty, print how to start
evaluate-pending     run the rubric evaluations that are due (the app also runs them)
retention [--dry-run]  delete recordings and transcripts older than RETENTION_DAYS
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from interview_app import routes
from interview_app.settings import PROJECT_ROOT, ConfigError, get_settings


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def migrate() -> None:
    """Bring the database schema to the newest migration."""
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def _read_password(args: argparse.Namespace) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            raise ValueError("The two passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_create_admin(args: argparse.Namespace) -> int:
    from interview_app.db import session_scope
    from interview_app.services.auth import AccountError, create_admin

    try:
        password = _read_password(args)
        with session_scope() as session:
            user = create_admin(session, args.email, password, role=args.role, name=args.name or "")
            print(f"Created {user.role} {user.email}.")
    except (AccountError, ValueError) as err:
        return _fail(str(err))
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from interview_app.db import session_scope
    from interview_app.services.demo import as_dict, seed_demo, write_marker

    settings = get_settings()
    try:
        with session_scope() as session:
            info = seed_demo(session, settings)
    except RuntimeError as err:
        return _fail(str(err))
    write_marker(settings, info)  # the links the next `make run` prints
    if args.json:
        print(json.dumps(as_dict(info)))
    else:
        _print_demo(as_dict(info))
    return 0


def _print_demo(info: dict[str, str]) -> None:
    print("\n  Admin:      {admin_url}\n  Sign in:    {admin_email} / {admin_password}\n  Candidate:  {candidate_link}\n".format(**info))


def cmd_migrate(_args: argparse.Namespace) -> int:
    migrate()
    return 0


def cmd_bootstrap(_args: argparse.Namespace) -> int:
    """What `make run` does before serving: schema up to date, demo data on an empty DB."""
    from interview_app.db import session_scope
    from interview_app.services import demo
    from interview_app.services.auth import admin_count

    migrate()
    settings = get_settings()
    with session_scope() as session:
        empty = admin_count(session) == 0
        if empty and not settings.production:
            demo.write_marker(settings, demo.seed_demo(session, settings))
        remembered = None if settings.production else demo.read_marker(session, settings)
    if remembered:
        demo.write_marker(settings, remembered)  # the file says what was printed (today's APP_URL)
        print(f"Demo data (also in {demo.marker_path(settings)}):")
        _print_demo(remembered)
    elif empty:
        print("No admin yet: create one with `python -m interview_app.cli create-admin you@example.com`.")
    elif not settings.production:
        print("No demo links saved for this database.")
        print(f"\n  Admin:      {settings.app_url}{routes.ADMIN}\n  Demo link:  .venv/bin/python -m interview_app.cli seed-demo\n")
    return 0


def cmd_evaluate_pending(args: argparse.Namespace) -> int:
    """Work off due evaluation jobs (safe beside running app processes)."""
    from interview_app.services.evaluation import run_pending

    results = run_pending(limit=args.limit)
    for ev_id, status in results:
        print(f"evaluation {ev_id}: {status}")
    if not results:
        print("No evaluation is due.")
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    """Delete (or with --dry-run list) recordings and transcripts past RETENTION_DAYS."""
    from interview_app.db import session_scope
    from interview_app.services.retention import apply_retention

    settings = get_settings()
    with session_scope() as session:
        report = apply_retention(session, settings=settings, dry_run=args.dry_run)
    if report.cutoff is None:
        print("RETENTION_DAYS is 0: recordings and transcripts are kept. Set RETENTION_DAYS in .env to delete them after that many days.")
        return 0
    verb = "Would delete" if args.dry_run else "Deleted"
    for item in report.items:
        print(
            f"{verb}: interview {item.interview_id} (ended {item.ended_at:%Y-%m-%d}): "
            f"{len(item.objects)} file(s), {item.transcript_segments} transcript segment(s)"
        )
        for uri in item.objects:
            print(f"    {uri}")
    print(f"{len(report.items)} interview(s) ended before {report.cutoff:%Y-%m-%d %H:%M} UTC (RETENTION_DAYS={settings.retention_days}).")
    if report.webhook_deliveries:
        print(f"{verb} {report.webhook_deliveries} webhook delivery record(s) created before then.")
    for error in report.errors:
        print(f"error: could not delete {error}", file=sys.stderr)
    return 1 if report.errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m interview_app.cli", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("create-admin", help="create an admin account")
    p.add_argument("email")
    p.add_argument("--role", default="admin", choices=["admin", "reviewer"])
    p.add_argument("--name", default="")
    p.set_defaults(func=cmd_create_admin)
    p = sub.add_parser("seed-demo", help="demo admin, template and a fresh invited interview")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_seed_demo)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("bootstrap", help="migrate and seed an empty database").set_defaults(func=cmd_bootstrap)
    p = sub.add_parser("evaluate-pending", help="run the rubric evaluations that are due")
    p.add_argument("--limit", type=int, default=None, help="stop after this many jobs")
    p.set_defaults(func=cmd_evaluate_pending)
    p = sub.add_parser("retention", help="delete recordings and transcripts older than RETENTION_DAYS")
    p.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    p.set_defaults(func=cmd_retention)
    args = parser.parse_args(argv)
    try:
        get_settings()
        return args.func(args)
    except ConfigError as err:
        return _fail(f"configuration: {err}", 2)


if __name__ == "__main__":
    sys.exit(main())
