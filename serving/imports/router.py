"""HTTP route of bulk imports: POST /v1/admin/imports (a CSV or JSON Lines file). HTTP only."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile

from serving.deps import AdminUser, EngineDep, RedisDep, SettingsDep, WriteRateLimit
from serving.errors import ApiError
from serving.imports import service
from serving.imports.schemas import ImportFormat, ImportKind, ImportReport
from serving.imports.service import ImportsError

router = APIRouter(prefix="/v1/admin/imports", tags=["imports"])


@router.post(
    "",
    dependencies=[WriteRateLimit],
    responses={
        422: {
            "description": "rows were refused and nothing was applied (the report "
            "is in `error.details`), or the request is not valid"
        }
    },
)
def import_file(
    admin: AdminUser,
    engine: EngineDep,
    redis: RedisDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV with a header row, or JSON Lines")],
    kind: Annotated[ImportKind, Query(description="what the rows are")],
    format: Annotated[ImportFormat | None, Query(description="default: from the file name")] = None,
    partial: Annotated[
        bool, Query(description="apply the good rows even if others are refused")
    ] = False,
) -> ImportReport:
    """Every row is checked by the API's own rules (the product and stock schemas and
    services) and the file applies whole or not at all, unless `partial`."""
    fmt = service.format_of(file.filename, format)
    if fmt is None:
        raise ApiError(
            422,
            ImportsError.UNKNOWN_FORMAT,
            "name the format (format=csv|jsonl) or upload a .csv, .jsonl or .ndjson file",
        )
    if file.size is not None and file.size > settings.import_max_upload_bytes:
        raise ApiError(
            422,
            ImportsError.FILE_TOO_LARGE,
            f"the file is larger than {settings.import_max_upload_bytes} bytes; "
            "split it or use `shoplake import`",
        )
    text = io.TextIOWrapper(file.file, encoding="utf-8-sig", errors="strict", newline="")
    try:
        report = service.run_import(
            engine, redis, settings, kind, fmt, text, partial=partial, actor_id=admin.user_id
        )
    except UnicodeDecodeError as exc:
        raise ApiError(422, ImportsError.IMPORT_REFUSED, f"the file is not UTF-8: {exc}") from exc
    finally:
        text.detach()
    if report.refused and not report.applied:
        raise ApiError(
            422,
            ImportsError.IMPORT_REFUSED,
            f"{report.refused} of {report.rows} rows were refused; nothing was applied",
            details=report.model_dump(mode="json"),
        )
    return report
