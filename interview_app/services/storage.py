"""Private object storage behind one interface: local disk (embedded default) or S3 (boto3).

Locations are storage URIs — ``s3://bucket/key`` or ``local://key`` — never public
URLs. Presigned GET URLs are produced only here (see ``presigned_url``), with the
lifetime from ``PRESIGN_TTL_SECONDS``; local files are served by ``GET /api/files/{key}``
which checks the same kind of expiring signature (:meth:`LocalStorage.verify`).
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import time
import uuid
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from interview_app.settings import Settings, get_settings

# Types the review player needs that the platform's mimetypes table may lack.
_CONTENT_TYPES = {
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}


class StorageError(Exception):
    """A storage operation failed; the message says what and where."""


class Storage(Protocol):
    scheme: str

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str: ...
    def get(self, key_or_uri: str) -> bytes: ...
    def delete(self, key_or_uri: str) -> None: ...
    def exists(self, key_or_uri: str) -> bool: ...
    def list_keys(self, prefix: str) -> list[str]: ...
    def presigned_url(self, key_or_uri: str, ttl_seconds: int | None = None) -> str: ...
    def uri(self, key: str) -> str: ...
    def owns(self, uri: str) -> bool: ...


def content_type_for(key: str) -> str:
    """The Content-Type a browser needs to play or show the object at ``key``."""
    suffix = Path(key).suffix.lower()
    return _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def _clean_key(key: str) -> str:
    key = key.lstrip("/")
    parts = key.split("/")
    if not key or len(key) > 1000 or any(p in ("", ".", "..") for p in parts) or "\\" in key or "\x00" in key:
        raise StorageError(f"invalid storage key {key!r}")
    return key


def _ttl(requested: int | None, default: int) -> int:
    ttl = default if requested is None else requested
    if ttl <= 0:
        raise StorageError("a presigned URL needs a positive lifetime (PRESIGN_TTL_SECONDS)")
    return min(ttl, 7 * 24 * 3600)  # SigV4 refuses longer; keep both backends alike


class LocalStorage:
    """Files under a directory; presigned URLs point at the app's signed file route."""

    scheme = "local"

    def __init__(self, root: str | Path, *, app_url: str, secret_key: str, ttl_seconds: int) -> None:
        self.root = Path(root).resolve()
        self.app_url = app_url.rstrip("/")
        self._secret = hashlib.sha256(b"local-storage-url\n" + secret_key.encode("utf-8")).digest()
        self.ttl_seconds = ttl_seconds

    def owns(self, uri: str) -> bool:
        return uri.startswith("local://")

    def key_of(self, key_or_uri: str) -> str:
        if "://" in key_or_uri and not self.owns(key_or_uri):
            raise StorageError(f"{key_or_uri} is not in local storage (STORAGE_BACKEND=local)")
        return _clean_key(key_or_uri.removeprefix("local://"))

    def path_of(self, key_or_uri: str) -> Path:
        """The file behind a key; never outside the storage folder."""
        path = (self.root / self.key_of(key_or_uri)).resolve()
        if self.root not in path.parents:
            raise StorageError(f"invalid storage key {key_or_uri!r}")
        return path

    def uri(self, key: str) -> str:
        return f"local://{_clean_key(key)}"

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        path = self.path_of(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A temp name per writer: concurrent puts of one key never share a half-written file.
        tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.part")
        try:
            tmp.write_bytes(data)
            tmp.replace(path)  # readers never see half a file
        finally:
            tmp.unlink(missing_ok=True)
        return self.uri(self.key_of(key))

    def get(self, key_or_uri: str) -> bytes:
        try:
            return self.path_of(key_or_uri).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise StorageError(f"no object at {key_or_uri}") from None

    def delete(self, key_or_uri: str) -> None:
        path = self.path_of(key_or_uri)
        path.unlink(missing_ok=True)
        # Remove folders left empty (interviews/<id>/), never the root itself.
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def exists(self, key_or_uri: str) -> bool:
        return self.path_of(key_or_uri).is_file()

    def list_keys(self, prefix: str) -> list[str]:
        base = self.root / prefix.strip("/") if prefix.strip("/") else self.root
        if not base.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file() and not p.name.endswith(".part"))

    def signature(self, key: str, expires: int) -> str:
        return hmac.new(self._secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def presigned_url(self, key_or_uri: str, ttl_seconds: int | None = None) -> str:
        key = self.key_of(key_or_uri)
        expires = int(time.time()) + _ttl(ttl_seconds, self.ttl_seconds)
        return f"{self.app_url}/api/files/{quote(key)}?expires={expires}&sig={self.signature(key, expires)}"

    def verify(self, key: str, expires: int, sig: str) -> bool:
        """True when ``sig`` was made by presigned_url for ``key`` and has not expired."""
        if expires < int(time.time()):
            return False
        try:
            expected = self.signature(_clean_key(key), expires)
        except StorageError:
            return False
        # bytes: compare_digest refuses str with non-ASCII characters (a TypeError, i.e. a 500)
        return hmac.compare_digest(expected.encode(), sig.encode("utf-8", "surrogateescape"))


class S3Storage:
    """A private bucket through boto3 (AWS, MinIO, R2, any S3-compatible store)."""

    scheme = "s3"

    def __init__(self, settings: Settings) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = settings.s3_bucket
        self.ttl_seconds = settings.presign_ttl_seconds
        # Without an explicit regional endpoint boto3 signs presigned URLs for the global
        # endpoint, which AWS redirects for buckets outside us-east-1 (signature then fails).
        endpoint = settings.s3_endpoint_url or f"https://s3.{settings.s3_region}.amazonaws.com"
        self.client = boto3.client(
            "s3",
            region_name=settings.s3_region,
            endpoint_url=endpoint,
            aws_access_key_id=settings.aws_access_key_id,
            aws_secret_access_key=settings.aws_secret_access_key,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if settings.s3_force_path_style else "virtual"},
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
        )

    def owns(self, uri: str) -> bool:
        return uri.startswith(f"s3://{self.bucket}/")

    def key_of(self, key_or_uri: str) -> str:
        if key_or_uri.startswith("s3://"):
            bucket, _, key = key_or_uri[5:].partition("/")
            if bucket != self.bucket:
                raise StorageError(f"{key_or_uri} is not in the configured bucket {self.bucket} (S3_BUCKET)")
            return _clean_key(key)
        if "://" in key_or_uri:
            raise StorageError(f"{key_or_uri} is not in S3 storage (STORAGE_BACKEND=s3)")
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
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key_of(key_or_uri))
            return True
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise StorageError(f"could not check {key_or_uri}: {err}") from err
        except BotoCoreError as err:
            raise StorageError(f"could not check {key_or_uri}: {err}") from err

    def list_keys(self, prefix: str) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        keys: list[str] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix.lstrip("/")):
                keys.extend(obj["Key"] for obj in page.get("Contents", []))
        except (BotoCoreError, ClientError) as err:
            raise StorageError(f"listing {prefix} in bucket {self.bucket} failed: {err}") from err
        return sorted(keys)

    def presigned_url(self, key_or_uri: str, ttl_seconds: int | None = None) -> str:
        key = self.key_of(key_or_uri)
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type_for(key)},
            ExpiresIn=_ttl(ttl_seconds, self.ttl_seconds),
        )


def storage_from_settings(settings: Settings | None = None) -> LocalStorage | S3Storage:
    """The configured backend (STORAGE_BACKEND)."""
    settings = settings or get_settings()
    if settings.storage_backend == "s3":
        return S3Storage(settings)
    return local_storage(settings)


def local_storage(settings: Settings | None = None) -> LocalStorage:
    """Local storage, also when S3 is configured (the file route and old local:// objects)."""
    settings = settings or get_settings()
    return LocalStorage(
        settings.storage_local_dir, app_url=settings.app_url, secret_key=settings.secret_key, ttl_seconds=settings.presign_ttl_seconds
    )


def storage_for_uri(uri: str, settings: Settings | None = None) -> LocalStorage | S3Storage:
    """The backend that holds ``uri`` (objects written before a backend switch stay readable).

    Raises:
        StorageError: the URI names neither local storage nor the configured bucket.
    """
    settings = settings or get_settings()
    if uri.startswith("local://"):
        return local_storage(settings)
    if uri.startswith("s3://"):
        if settings.storage_backend != "s3":
            raise StorageError(f"{uri} is in S3, but STORAGE_BACKEND is not s3: set STORAGE_BACKEND=s3 and the S3_* keys in .env")
        return S3Storage(settings)
    raise StorageError(f"{uri!r} is not a storage URI (expected s3://bucket/key or local://key)")


def transcript_key(interview_id: str) -> str:
    return f"interviews/{interview_id}/transcript.json"


def recording_key(interview_id: str, extension: str) -> str:
    return f"interviews/{interview_id}/recording.{extension}"


def interview_prefix(interview_id: str) -> str:
    """Every object of one interview lives under this prefix."""
    return f"interviews/{interview_id}/"
