"""HTTP routes of finance exports."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.auth.dependencies import require_role
from api.deps import SettingsDep
from api.errors import problem_responses
from api.finance import service
from api.finance.service import ExportFormat
from api.users.models import Role, User
from contracts.reports import READERS

router = APIRouter(tags=["finance"], responses=problem_responses(401, 403, 422))

FinanceDep = Annotated[User, Depends(require_role(*(Role(role) for role in READERS)))]


@router.get(
    "/finance/exports/{report}",
    response_class=Response,
    responses={
        200: {
            "description": "The report as a file",
            "content": {
                media: {"schema": {"type": "string"}} for media in service.MEDIA_TYPES.values()
            },
        },
        **problem_responses(404, 503),
    },
)
def finance_export(
    report: str,
    _staff: FinanceDep,
    settings: SettingsDep,
    format: ExportFormat = ExportFormat.csv,
    start: Annotated[date | None, Query(alias="from", description="First day (inclusive)")] = None,
    end: Annotated[date | None, Query(alias="to", description="Last day (inclusive)")] = None,
    organizer_id: Annotated[uuid.UUID | None, Query(alias="organizerId")] = None,
) -> Response:
    """A finance report from the latest published analytics snapshot (finance and admins):
    `revenue-by-day`, `payouts`, `tax` or `invoices`, as CSV, XLSX or Parquet, optionally for
    a date range and one organizer. Amounts are integer minor units with their currency."""
    exported = service.export(
        settings.snapshot_dir,
        report=report,
        fmt=format,
        start=start,
        end=end,
        organizer_id=str(organizer_id) if organizer_id else None,
    )
    return Response(
        content=exported.content,
        media_type=exported.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{exported.filename}"',
            "X-Report-Rows": str(exported.rows),
            **({"X-Snapshot-Built-At": exported.built_at} if exported.built_at else {}),
        },
    )
