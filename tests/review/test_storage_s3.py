"""The S3 backend against real S3 servers: moto (fast), s3rver (expiry) and the s3rver fork that verifies SigV4."""

from __future__ import annotations

import time
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from interview_app.services.storage import S3Storage, StorageError, storage_for_uri, storage_from_settings
from tests.review.conftest import S3Server, make_bucket


@pytest.fixture
def s3_storage(s3_server: S3Server, settings_env) -> S3Storage:
    bucket = f"rev-{uuid.uuid4().hex[:10]}"
    make_bucket(s3_server, bucket)
    storage = storage_from_settings(settings_env(**s3_server.env(bucket)))
    assert isinstance(storage, S3Storage)
    return storage


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_objects_round_trip_under_s3_uris(s3_storage: S3Storage) -> None:
    uri = s3_storage.put("interviews/abc/transcript.json", b'{"segments": []}', "application/json")
    assert uri == f"s3://{s3_storage.bucket}/interviews/abc/transcript.json"
    assert s3_storage.get(uri) == b'{"segments": []}'
    assert s3_storage.exists(uri)
    s3_storage.put("interviews/abc/recording.ogg", b"OggS", "audio/ogg")
    s3_storage.put("interviews/other/recording.ogg", b"OggS", "audio/ogg")
    assert s3_storage.list_keys("interviews/abc/") == ["interviews/abc/recording.ogg", "interviews/abc/transcript.json"]
    s3_storage.delete(uri)
    assert not s3_storage.exists(uri)
    with pytest.raises(StorageError):
        s3_storage.get(uri)


def test_uris_of_other_buckets_and_backends_are_refused(s3_storage: S3Storage) -> None:
    with pytest.raises(StorageError, match="configured bucket"):
        s3_storage.get("s3://someone-elses-bucket/interviews/x/recording.ogg")
    with pytest.raises(StorageError, match="not in S3"):
        s3_storage.get("local://interviews/x/recording.ogg")
    with pytest.raises(StorageError, match="invalid storage key"):
        s3_storage.put("interviews/../etc/passwd", b"x")


def test_storage_for_uri_picks_the_backend(s3_storage: S3Storage) -> None:
    assert isinstance(storage_for_uri(f"s3://{s3_storage.bucket}/k"), S3Storage)
    assert storage_for_uri("local://interviews/x/recording.ogg").scheme == "local"
    with pytest.raises(StorageError, match="not a storage URI"):
        storage_for_uri("https://example.com/x.ogg")


def test_fresh_presigned_url_plays_with_the_right_type(s3_storage: S3Storage, s3_server: S3Server) -> None:
    uri = s3_storage.put("interviews/p/recording.ogg", b"OggS-audio-bytes", "audio/ogg")
    url = s3_storage.presigned_url(uri)
    assert url.startswith(s3_server.endpoint_url + f"/{s3_storage.bucket}/")  # path-style
    assert "X-Amz-Expires=900" in url  # PRESIGN_TTL_SECONDS default
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == b"OggS-audio-bytes"
    assert response.headers["content-type"].startswith("audio/ogg")
    ranged = httpx.get(url, headers={"Range": "bytes=4-8"}, timeout=10)
    assert ranged.status_code == 206 and ranged.content == b"-audi"


def test_ttl_comes_from_settings(s3_server: S3Server, settings_env) -> None:
    bucket = f"rev-{uuid.uuid4().hex[:10]}"
    make_bucket(s3_server, bucket)
    storage = storage_from_settings(settings_env(**s3_server.env(bucket), PRESIGN_TTL_SECONDS="120"))
    assert "X-Amz-Expires=120" in storage.presigned_url("interviews/x/recording.ogg")


def _s3rver_storage(s3rver: S3Server, settings_env) -> S3Storage:
    bucket = f"rev-{uuid.uuid4().hex[:10]}"
    make_bucket(s3rver, bucket)
    storage = storage_from_settings(settings_env(**s3rver.env(bucket)))
    assert isinstance(storage, S3Storage)
    return storage


def test_s3rver_refuses_urls_tampered_in_what_it_checks(s3rver: S3Server, settings_env) -> None:
    storage = _s3rver_storage(s3rver, settings_env)
    uri = storage.put("interviews/t/recording.ogg", b"secret-audio", "audio/ogg")
    fresh = storage.presigned_url(uri)
    # A lifetime stretched beyond what SigV4 allows.
    assert httpx.get(_with_query(fresh, **{"X-Amz-Expires": "604801"}), timeout=10).status_code == 400
    # A credential that is not ours.
    credential = dict(parse_qsl(urlsplit(fresh).query))["X-Amz-Credential"]
    forged = _with_query(fresh, **{"X-Amz-Credential": credential.replace("S3RVER", "MALLORY", 1)})
    assert httpx.get(forged, timeout=10).status_code == 403


@pytest.mark.parametrize("server", ["s3rver", "s3rver_sigv4"])
def test_expired_url_is_refused_and_a_fresh_one_works(server: str, request: pytest.FixtureRequest, settings_env) -> None:
    storage = _s3rver_storage(request.getfixturevalue(server), settings_env)
    uri = storage.put("interviews/e/recording.ogg", b"secret-audio", "audio/ogg")
    # X-Amz-Date has one-second resolution, so a URL signed with a TTL of n
    # seconds opens for between n-1 and n seconds: with n=1 a slow machine can
    # see it expire before the first request. Three seconds leaves two.
    signed_at = time.monotonic()
    short = storage.presigned_url(uri, ttl_seconds=3)
    assert httpx.get(short, timeout=10).status_code == 200
    time.sleep(max(0.0, signed_at + 4.2 - time.monotonic()))
    expired = httpx.get(short, timeout=10)
    assert expired.status_code == 403
    assert b"expired" in expired.content


def test_forged_and_tampered_urls_are_refused(s3rver_sigv4: S3Server, settings_env) -> None:
    """On the SigV4-verifying s3rver: only the exact URL we signed opens the object."""
    storage = _s3rver_storage(s3rver_sigv4, settings_env)
    uri = storage.put("interviews/t/recording.ogg", b"secret-audio", "audio/ogg")
    storage.put("interviews/u/recording.ogg", b"other-audio", "audio/ogg")
    fresh = storage.presigned_url(uri)
    assert httpx.get(fresh, timeout=10).content == b"secret-audio"

    sig = dict(parse_qsl(urlsplit(fresh).query))["X-Amz-Signature"]
    forged = _with_query(fresh, **{"X-Amz-Signature": ("0" if sig[0] != "0" else "1") + sig[1:]})
    assert httpx.get(forged, timeout=10).status_code == 403
    other_object = fresh.replace("/interviews/t/", "/interviews/u/")
    assert httpx.get(other_object, timeout=10).status_code == 403
    longer = _with_query(fresh, **{"X-Amz-Expires": "3600"})
    assert httpx.get(longer, timeout=10).status_code == 403
    other_type = _with_query(fresh, **{"response-content-type": "text/html"})
    assert httpx.get(other_type, timeout=10).status_code == 403
    wrong_secret = S3Storage(settings_env(AWS_SECRET_ACCESS_KEY="not-the-secret"))
    assert httpx.get(wrong_secret.presigned_url(uri), timeout=10).status_code == 403
