"""Local storage and its signed file route: expiry, tampering, missing files, Range."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient

from interview_app.api import create_api
from interview_app.services.storage import LocalStorage, StorageError, storage_from_settings

AUDIO = bytes(range(256)) * 40  # 10 240 bytes


@pytest.fixture
def local(settings_env, tmp_path: Path) -> LocalStorage:
    storage = storage_from_settings(settings_env(STORAGE_LOCAL_DIR=str(tmp_path / "store"), APP_URL="http://127.0.0.1:3999"))
    assert isinstance(storage, LocalStorage)
    return storage


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_api())


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _replace(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{urlencode(dict(parse_qsl(parts.query)) | changes)}"


def test_keys_stay_inside_the_storage_folder(local: LocalStorage) -> None:
    for bad in ("../outside", "a/../../b", "a//b", "", "a\\b", "./x"):
        with pytest.raises(StorageError):
            local.put(bad, b"x")
    with pytest.raises(StorageError, match="not in local storage"):
        local.get("s3://bucket/interviews/x/recording.ogg")


def test_put_get_list_delete(local: LocalStorage) -> None:
    uri = local.put("interviews/i1/recording.wav", AUDIO, "audio/wav")
    assert uri == "local://interviews/i1/recording.wav"
    local.put("interviews/i1/transcript.json", b"{}")
    assert local.get(uri) == AUDIO
    assert local.list_keys("interviews/i1/") == ["interviews/i1/recording.wav", "interviews/i1/transcript.json"]
    local.delete(uri)
    local.delete("interviews/i1/transcript.json")
    assert not local.exists(uri)
    assert not (local.root / "interviews" / "i1").exists()  # empty folders go too
    assert local.root.exists()


def test_fresh_url_serves_the_file_with_its_type(local: LocalStorage, client: TestClient) -> None:
    url = local.presigned_url(local.put("interviews/i2/recording.wav", AUDIO, "audio/wav"))
    assert url.startswith("http://127.0.0.1:3999/api/files/interviews/i2/recording.wav?expires=")
    response = client.get(_path_and_query(url))
    assert response.status_code == 200
    assert response.content == AUDIO
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["accept-ranges"] == "bytes"
    assert "no-store" in response.headers["cache-control"]


def test_range_requests_let_the_player_seek(local: LocalStorage, client: TestClient) -> None:
    url = _path_and_query(local.presigned_url(local.put("interviews/i3/recording.ogg", AUDIO)))
    part = client.get(url, headers={"Range": "bytes=1000-1099"})
    assert part.status_code == 206
    assert part.content == AUDIO[1000:1100]
    assert part.headers["content-range"] == f"bytes 1000-1099/{len(AUDIO)}"
    assert part.headers["content-type"] == "audio/ogg"
    tail = client.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == AUDIO[-10:]
    assert client.get(url, headers={"Range": f"bytes={len(AUDIO) + 5}-"}).status_code == 416


def test_expired_url_is_refused(local: LocalStorage, client: TestClient, settings_env) -> None:
    key = local.put("interviews/i4/recording.ogg", AUDIO)
    signed_at = time.monotonic()
    url = local.presigned_url(key, ttl_seconds=2)  # whole seconds: opens for 2-3 s
    assert client.get(_path_and_query(url)).status_code == 200
    time.sleep(max(0.0, signed_at + 3.2 - time.monotonic()))
    refused = client.get(_path_and_query(url))
    assert refused.status_code == 403
    assert "expired" in refused.json()["detail"]


def test_tampered_urls_are_refused(local: LocalStorage, client: TestClient) -> None:
    local.put("interviews/other/recording.ogg", b"someone else")
    url = local.presigned_url(local.put("interviews/i5/recording.ogg", AUDIO))
    query = dict(parse_qsl(urlsplit(url).query))
    assert client.get(_replace(url, expires=str(int(query["expires"]) + 3600))).status_code == 403
    assert client.get(_replace(url, sig="0" * 64)).status_code == 403
    assert client.get(_path_and_query(url).replace("/i5/", "/other/")).status_code == 403
    assert client.get(urlsplit(url).path).status_code == 403  # no signature at all
    assert client.get(_replace(url, expires="soon")).status_code in (403, 422)


def test_signature_from_another_secret_is_refused(local: LocalStorage, client: TestClient, tmp_path: Path) -> None:
    local.put("interviews/i6/recording.ogg", AUDIO)
    stranger = LocalStorage(local.root, app_url=local.app_url, secret_key="another-secret-" + "z" * 40, ttl_seconds=60)
    assert client.get(_path_and_query(stranger.presigned_url("interviews/i6/recording.ogg"))).status_code == 403


def test_missing_file_is_404_after_a_valid_signature(local: LocalStorage, client: TestClient) -> None:
    url = local.presigned_url("interviews/gone/recording.ogg")
    response = client.get(_path_and_query(url))
    assert response.status_code == 404
    assert "no longer exists" in response.json()["detail"]


def test_concurrent_puts_of_one_key_never_collide(tmp_path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from interview_app.services.storage import LocalStorage

    store = LocalStorage(tmp_path, app_url="http://127.0.0.1:1", secret_key="s" * 40, ttl_seconds=60)
    payloads = [bytes([i]) * 50_000 for i in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda data: store.put("interviews/x/transcript.json", data), payloads))
    assert store.get("interviews/x/transcript.json") in payloads
    assert [p.name for p in (tmp_path / "interviews" / "x").iterdir()] == ["transcript.json"]
