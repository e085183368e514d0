"""Local-storage objects behind expiring signed URLs: ``GET /api/files/{key}?expires=&sig=``.

The local counterpart of an S3 presigned GET URL: only ``LocalStorage.presigned_url``
mints the signature (for a logged-in admin, with PRESIGN_TTL_SECONDS), so the route
itself needs no session. Range requests are answered (206) so players can seek.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, JSONResponse, Response

from interview_app.services.storage import StorageError, content_type_for, local_storage

router = APIRouter(tags=["files"])

_NO_STORE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status, headers=_NO_STORE)


@router.get(
    "/api/files/{key:path}",
    summary="A local-storage object through a signed, expiring URL",
    responses={
        200: {"description": "The object"},
        206: {"description": "Part of the object (Range)"},
        403: {"description": "Signature missing, wrong or expired"},
        404: {"description": "No such object"},
    },
    response_class=Response,
)
def get_file(key: str, expires: int | None = Query(default=None), sig: str = Query(default="", max_length=128)) -> Response:
    storage = local_storage()
    if expires is None or not sig or not storage.verify(key, expires, sig):
        return _refuse(403, "This link is invalid or has expired. Reload the interview page to get a fresh one.")
    try:
        path = storage.path_of(key)
    except StorageError:
        return _refuse(404, "No such file.")
    if not path.is_file():
        return _refuse(404, "This file no longer exists (it may have been deleted under the retention policy).")
    return FileResponse(path, media_type=content_type_for(key), headers=_NO_STORE, content_disposition_type="inline")
