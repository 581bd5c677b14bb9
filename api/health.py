"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import Public
from api.migrate import current_revision, head_revision

router = APIRouter(tags=["operations"], dependencies=[Public])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    database: bool
    migrated: bool
    revision: str | None
    expected_revision: str | None


@router.get("/health", response_model=Health)
async def health() -> Health:
    """The process is up (liveness)."""
    return Health()


@router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness}})
async def ready(request: Request) -> JSONResponse:
    """The database answers and is at the newest migration (readiness)."""
    engine = request.app.state.engine
    expected = head_revision()
    revision: str | None = None
    database = False
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        database = True
        revision = await current_revision(engine)
    except Exception:
        database = False
    migrated = database and revision == expected
    body = Readiness(
        status="ready" if migrated else "not_ready",
        database=database,
        migrated=migrated,
        revision=revision,
        expected_revision=expected,
    )
    return JSONResponse(body.model_dump(), status_code=200 if migrated else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    """Request counts and latency histograms by route and status, in Prometheus text format."""
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
