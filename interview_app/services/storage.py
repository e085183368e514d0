"""Private object storage behind one interface: local disk (embedded default) or S3 (boto3).

Locations are storage URIs — ``s3://bucket/key`` or ``local://key`` — never public
URLs. Presigned GET URLs are produced only here (see :func:`Storage.presigned_url`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from interview_app.settings import Settings, get_settings


class StorageError(Exception):
    """A storage operation failed; the message says what and where."""


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str: ...
    def get(self, key_or_uri: str) -> bytes: ...
    def delete(self, key_or_uri: str) -> None: ...
    def exists(self, key_or_uri: str) -> bool: ...
    def presigned_url(self, key_or_uri: str, ttl_seconds: int | None = None) -> str: ...
    def uri(self, key: str) -> str: ...


def _clean_key(key: str) -> str:
    key = key.lstrip("/")
    if not key or ".." in key.split("/"):
        raise StorageError(f"invalid storage key {key!r}")
    return key


class LocalStorage:
    """Files under a directory; presigned URLs point at the app's authenticated file route."""

    scheme = "local"

    def __init__(self, root: str | Path, *, app_url: str, secret_key: str, ttl_seconds: int) -> None:
        self.root = Path(root)
        self.app_url = app_url.rstrip("/")
        self._secret = secret_key.encode("utf-8")
        self.ttl_seconds = ttl_seconds

    def key_of(self, key_or_uri: str) -> str:
        return _clean_key(key_or_uri.removeprefix("local://"))

    def _path(self, key_or_uri: str) -> Path:
        return self.root / self.key_of(key_or_uri)

    def uri(self, key: str) -> str:
        return f"local://{_clean_key(key)}"

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # readers never see half a file
        return self.uri(key)

    def get(self, key_or_uri: str) -> bytes:
        try:
            return self._path(key_or_uri).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"no object at {key_or_uri}") from None

    def delete(self, key_or_uri: str) -> None:
        self._path(key_or_uri).unlink(missing_ok=True)

    def exists(self, key_or_uri: str) -> bool:
        return self._path(key_or_uri).is_file()

    def signature(self, key: str, expires: int) -> str:
        return hmac.new(self._secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def presigned_url(self, key_or_uri: str, ttl_seconds: int | None = None) -> str:
        key = self.key_of(key_or_uri)
        expires = int(time.time()) + (ttl_seconds or self.ttl_seconds)
        return f"{self.app_url}/api/files/{quote(key)}?expires={expires}&sig={self.signature(key, expires)}"

    def verify(self, key: str, expires: int, sig: str) -> bool:
        """True when ``sig`` was made by presigned_url for ``key`` and has not expired."""
        if expires < int(time.time()):
            return False
        return hmac.compare_digest(self.signature(_clean_key(key), expires), sig)


class S3Storage:
    """A private bucket through boto3 (AWS, MinIO, R2, any S3-compatible store)."""

    scheme = "s3"

    def __init__(self, settings: Settings) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = settings.s3_bucket
        self.ttl_seconds = settings.presign_ttl_seconds
        self.client = boto3.client(
            "s3",
            region_name=settings.s3_region,
            endpoint_url=settings.s3_endpoint_url or None,
            aws_access_key_id=settings.aws_access_key_id,
            aws_secret_access_key=settings.aws_secret_access_key,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if settings.s3_force_path_style else "auto"},
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
        )

    def key_of(self, key_or_uri: str) -> str:
        if key_or_uri.startswith("s3://"):
            bucket, _, key = key_or_uri[5:].partition("/")
            if bucket != self.bucket:
                raise StorageError(f"{key_or_uri} is not in the configured bucket {self.bucket}")
            return _clean_key(key)
        return _clean_key(key_or_uri)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{_clean_key(key)}"

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key_of(key), Body=data, ContentType=content_type)
        except (BotoCoreError, ClientError) as err:
            raise StorageError(f"upload of {key} to bucket {self.bucket} failed: {err}") from err
        return self.uri(self.key_of(key))

    def get(self, key_or_uri: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key_of(key_or_uri))["Body"].read()
        except (BotoCoreError, ClientError) as err:
            raise StorageError(f"download of {key_or_uri} failed: {err}") from err

    def delete(self, key_or_uri: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key_of(key_or_uri))
        except (BotoCoreError, ClientError) as err:
            raise StorageError(f"delete of {key_or_uri} failed: {err}") from err

    def exists(self, key_or_uri: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key_of(key_or_uri))
            return True
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise StorageError(f"could not check {key_or_uri}: {err}") from err

    def presigned_url(self, key_or_uri: str, ttl_seconds: int | None = None) -> str:
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self.key_of(key_or_uri)},
            ExpiresIn=ttl_seconds or self.ttl_seconds,
        )


def storage_from_settings(settings: Settings | None = None) -> LocalStorage | S3Storage:
    settings = settings or get_settings()
    if settings.storage_backend == "s3":
        return S3Storage(settings)
    return LocalStorage(
        settings.storage_local_dir, app_url=settings.app_url, secret_key=settings.secret_key, ttl_seconds=settings.presign_ttl_seconds
    )


def transcript_key(interview_id: str) -> str:
    return f"interviews/{interview_id}/transcript.json"


def recording_key(interview_id: str, extension: str) -> str:
    return f"interviews/{interview_id}/recording.{extension}"
