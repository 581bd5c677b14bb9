"""Fixtures for tests through the HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import delete

from api.config import Settings
from api.main import create_app
from api.models import metadata
from api.storage import make_storage
from tests.api.factories import Api


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "database_url": database_url,
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "mail_dir": tmp_path / "mail",
        "sms_dir": tmp_path / "sms",
        "search_dir": tmp_path / "search",
        "log_json": False,
        "log_level": "WARNING",
        "page_cache_seconds": 0,  # tests/pages/test_page_cache.py turns it on
        # Concurrency tests send dozens of requests at once to test a rule, not admission:
        # they queue as in production but are never turned away (tests/api/test_admission.py).
        "admission_max_wait_ms": 30_000,
        # Each test's app would open a pool of connections it mostly never books on.
        "express_open_at_start": False,
        # Many apps start in one test process: freezing the heap each time would keep what
        # earlier tests left behind, and a full collection each start costs time.
        "gc_freeze_at_start": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def app(
    database_url: str, tmp_path: Path, settings_overrides: dict[str, object]
) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(database_url, tmp_path, **settings_overrides))
    async with LifespanManager(application):
        yield application
        async with application.state.sessionmaker() as session:
            for table in reversed(metadata.sorted_tables):
                await session.execute(delete(table))
            await session.commit()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4321))
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
        yield http


@pytest.fixture
def api(app: FastAPI, client: httpx.AsyncClient) -> Api:
    return Api(app, client)


@contextlib.asynccontextmanager
async def serving(app: FastAPI, port: int = 0) -> AsyncIterator[str]:
    """Serve the app with uvicorn on a loopback port (its lifespan is already running). The
    socket listens before uvicorn starts, so early connections wait in its backlog."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()


@pytest.fixture
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The test's app served by uvicorn on a loopback port; local media are linked where it
    serves them (the settings' public address is not this port)."""
    async with serving(app) as url:
        settings = app.state.settings
        if settings.media_url is None and settings.media_public_url is None:
            app.state.storage = make_storage(None, settings.media_dir, f"{url}/media")
        yield url
