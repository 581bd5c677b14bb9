"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import Public, SettingsDep, declares_access
from api.errors import NotFound, Unauthorized, problem_responses
from api.migrate import current_revision, head_revision

router = APIRouter(tags=["operations"])
_metrics_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="MetricsToken",
    description="TESSERA_METRICS_TOKEN, for Prometheus",
)


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    database: bool
    migrated: bool
    revision: str | None
    expected_revision: str | None


@router.get("/health", response_model=Health, dependencies=[Public])
async def health() -> Health:
    """The process is up (liveness)."""
    return Health()


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness}},
    dependencies=[Public],
)
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


@declares_access(
    "the scraper with TESSERA_METRICS_TOKEN; anyone in development and test when none is set"
)
async def metrics_scraper(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_metrics_bearer)],
) -> None:
    """A set token is always required; without one, metrics are open only where nothing
    faces the internet (development and test) and absent in production."""
    token = settings.metrics_token
    if token is None:
        if settings.env == "production":
            raise NotFound("Metrics are off: set TESSERA_METRICS_TOKEN to scrape them.")
        return
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise Unauthorized("Send TESSERA_METRICS_TOKEN as a Bearer token.")


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}},
        **problem_responses(401, 404),
    },
    dependencies=[Depends(metrics_scraper)],
)
async def metrics(request: Request) -> Response:
    """Request counts and latency histograms by route and status, in Prometheus text format
    (the sum of every worker process)."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
