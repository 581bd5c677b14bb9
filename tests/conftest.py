"""Shared fixtures: every API test runs against SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from api.migrate import upgrade_async

POSTGRES_URL = os.environ.get(
    "TESSERA_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def _postgres_dsn(database: str) -> str:
    url = make_url(POSTGRES_URL).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


async def _postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        conn = await asyncpg.connect(_postgres_dsn(make_url(POSTGRES_URL).database or "postgres"))
    except (OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string()} is not reachable: {exc}"
    await conn.close()
    return None


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A freshly migrated database of each kind, shared by the tests of one session."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "tessera.db"
        url = f"sqlite+aiosqlite:///{path}"
        await upgrade_async(url)
        yield url
        return
    reason = await _postgres_available()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL: {reason}")
        pytest.skip(reason)
    name = f"tessera_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_postgres_dsn("postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name)
    rendered = url.render_as_string(hide_password=False)
    try:
        await upgrade_async(rendered)
        yield rendered
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Tests that need other settings override this fixture."""
    return {}


# For tests of what reads the published snapshot (dashboards, exports, recommendations): the
# database under the API does not change what they check, and the pipeline's reading of both
# databases is tested in tests/pipelines/test_pipeline.py, so they build the marts once.
ONE_DATABASE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
