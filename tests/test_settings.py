"""Settings: defaults, one-line errors naming the key, .env.example and the README in step with the declared keys."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from interview_app.settings import ConfigError, load_settings, settings_env_keys

ROOT = Path(__file__).resolve().parent.parent


def test_embedded_defaults_need_no_keys() -> None:
    s = load_settings({"SECRET_KEY": "k" * 40})
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("data/interviews.db")
    assert s.storage_backend == "local" and s.llm_provider == "scripted"
    assert not s.livekit_configured
    assert s.presign_ttl_seconds == 900 and s.agent_name == "interviewer"


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"LIVEKIT_URL": "wss://x.livekit.cloud"}, "LIVEKIT_API_KEY"),
        ({"LIVEKIT_URL": "not a url", "LIVEKIT_API_KEY": "k", "LIVEKIT_API_SECRET": "s"}, "LIVEKIT_URL"),
        ({"STORAGE_BACKEND": "s3"}, "S3_BUCKET"),
        ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND"),
        ({"LLM_PROVIDER": "openai"}, "OPENAI_API_KEY"),
        ({"PRESIGN_TTL_SECONDS": "soon"}, "PRESIGN_TTL_SECONDS"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"APP_ENV": "production", "SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"EMAIL_BACKEND": "smtp"}, "SMTP_HOST"),
    ],
)
def test_bad_or_missing_setting_is_one_line_naming_the_key(environ: dict[str, str], names: str) -> None:
    environ = {"SECRET_KEY": "k" * 40} | environ
    with pytest.raises(ConfigError) as err:
        load_settings(environ)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(names) or names in message.split(":")[0]


def test_data_dir_holds_every_development_file(tmp_path: Path) -> None:
    from interview_app.settings import PROJECT_ROOT

    default = load_settings({"SECRET_KEY": "k" * 40})
    assert default.data_dir == str(PROJECT_ROOT / "data")
    relative = load_settings({"SECRET_KEY": "k" * 40, "DATA_DIR": "var/dev"})
    assert relative.data_dir == str(PROJECT_ROOT / "var" / "dev")
    s = load_settings({"DATA_DIR": str(tmp_path)})  # no SECRET_KEY: the development key is kept there too
    assert s.database_url == f"sqlite:///{tmp_path.as_posix()}/interviews.db"
    assert s.storage_local_dir == str(tmp_path / "storage") and s.agent_outbox_dir == str(tmp_path / "outbox")
    assert (tmp_path / ".secret_key").read_text().strip() == s.secret_key


def test_consent_wording_follows_the_interview_unless_set() -> None:
    from interview_app.settings import TEXT_CONSENT_TEXT, VOICE_CONSENT_TEXT

    default = load_settings({"SECRET_KEY": "k" * 40})
    assert default.consent_for(voice=True) == VOICE_CONSENT_TEXT and "audio" in VOICE_CONSENT_TEXT
    assert default.consent_for(voice=False) == TEXT_CONSENT_TEXT and "audio" not in TEXT_CONSENT_TEXT
    assert "no video" in VOICE_CONSENT_TEXT and "camera" not in VOICE_CONSENT_TEXT  # audio-only recording: says so
    s3 = {"SECRET_KEY": "k" * 40, "STORAGE_BACKEND": "s3", "S3_BUCKET": "b", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"}
    assert load_settings(s3).consent_for(voice=True) == VOICE_CONSENT_TEXT  # OGG egress: audio only
    video = load_settings(s3 | {"RECORDING_FORMAT": "mp4"})
    assert video.records_video and "video if you turn your camera on" in video.consent_for(voice=True)
    # the agent's own recorder (local storage) is audio only, whatever RECORDING_FORMAT says
    assert not load_settings({"SECRET_KEY": "k" * 40, "RECORDING_FORMAT": "mp4"}).records_video
    own = load_settings({"SECRET_KEY": "k" * 40, "CONSENT_TEXT": "  Our own wording.  "})
    assert own.consent_for(voice=True) == own.consent_for(voice=False) == "Our own wording."


def test_postgres_url_uses_psycopg2() -> None:
    s = load_settings({"SECRET_KEY": "k" * 40, "DATABASE_URL": "postgres://u:p@db:5432/app"})
    assert s.database_url == "postgresql+psycopg2://u:p@db:5432/app"


def test_env_example_documents_exactly_the_declared_keys() -> None:
    documented = re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    declared = settings_env_keys() - {"ENV_FILE"}
    assert len(documented) == len(set(documented)), f"documented twice: {sorted(k for k in documented if documented.count(k) > 1)}"
    only_doc, only_code = set(documented) - declared, declared - set(documented)
    assert not only_doc and not only_code, f"only in .env.example: {only_doc}; declared but undocumented: {only_code}"


def test_readme_configuration_table_names_every_key() -> None:
    """Each key is in the README's table by name or by a documented group such as `SMTP_*`, and the table names no other key."""
    section = (ROOT / "README.md").read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    named = set(re.findall(r"`([A-Z][A-Z0-9_]*[A-Z0-9])`", table))
    groups = set(re.findall(r"`([A-Z][A-Z0-9_]*_)\*`", table))
    declared = settings_env_keys() - {"ENV_FILE"}
    missing = {key for key in declared if key not in named and not any(key.startswith(group) for group in groups)}
    assert not missing, f"README's configuration table leaves out {sorted(missing)}"
    assert named <= declared, f"README's configuration table names keys the code does not read: {sorted(named - declared)}"
    assert all(any(key.startswith(group) for key in declared) for group in groups), f"a group matches no key: {groups}"


def test_every_malformed_value_is_refused_in_one_line_naming_its_key() -> None:
    """A value no key could mean: keys with a type or a shape refuse it in one line that starts with the key."""
    everything_on = {"SECRET_KEY": "k" * 40, "LIVEKIT_URL": "wss://x", "LIVEKIT_API_KEY": "k", "LIVEKIT_API_SECRET": "s"}
    everything_on |= {"STORAGE_BACKEND": "s3", "S3_BUCKET": "b", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"}
    everything_on |= {"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "k", "EMAIL_BACKEND": "smtp", "SMTP_HOST": "h", "SMTP_FROM": "f"}
    refused = 0
    for key in sorted(settings_env_keys() - {"ENV_FILE"}):
        try:
            load_settings(everything_on | {key: "-not:a value-"})
        except ConfigError as err:
            message = str(err)
            assert message.startswith(key) and "\n" not in message, message
            refused += 1
    assert refused >= 40  # every number, yes/no, choice, URL and checked secret


def test_secrets_stay_out_of_repr() -> None:
    secrets = (
        "SECRET_KEY",
        "LIVEKIT_API_SECRET",
        "AWS_SECRET_ACCESS_KEY",
        "OPENAI_API_KEY",
        "DEEPGRAM_API_KEY",
        "SMTP_PASSWORD",
        "GREENHOUSE_API_KEY",
    )
    env = {key: f"{key.lower()}-value-" + "x" * 32 for key in secrets}
    env |= {"LIVEKIT_URL": "wss://x.livekit.cloud", "LIVEKIT_API_KEY": "k", "LLM_PROVIDER": "openai"}
    text = repr(load_settings(env))
    assert not [key for key in secrets if env[key] in text]
    assert "wss://x.livekit.cloud" in text  # the rest is shown


def test_defaults_that_follow_other_keys() -> None:
    s = load_settings({"SECRET_KEY": "k" * 40, "PORT": "3999", "S3_ENDPOINT_URL": "http://127.0.0.1:9000/"})
    assert s.app_url == "http://127.0.0.1:3999" and s.s3_endpoint_url == "http://127.0.0.1:9000" and s.s3_force_path_style
    assert not load_settings({"SECRET_KEY": "k" * 40, "S3_ENDPOINT_URL": "http://h", "S3_FORCE_PATH_STYLE": "off"}).s3_force_path_style
    assert load_settings({"SECRET_KEY": "k" * 40, "CANDIDATE_TOKEN_TTL_SECONDS": "3600"}).candidate_token_ttl_seconds == 900


def test_nothing_else_reads_the_environment() -> None:
    offenders = []
    for path in [*ROOT.glob("interview_app/**/*.py"), *ROOT.glob("agent/**/*.py")]:
        if path.name == "settings.py":
            continue
        text = path.read_text()
        if "os.environ" in text or "os.getenv" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_float_settings_out_of_range_name_the_key() -> None:
    from interview_app.settings import ConfigError

    base = {"SECRET_KEY": "k" * 40}
    assert load_settings(base | {"TTS_SPEED": "1.5", "AGENT_LOAD_THRESHOLD": "0.9"}).tts_speed == 1.5
    for key, value in (("TTS_SPEED", "9"), ("TTS_SPEED", "0.1"), ("AGENT_LOAD_THRESHOLD", "1.5")):
        with pytest.raises(ConfigError, match=key):
            load_settings(base | {key: value})
