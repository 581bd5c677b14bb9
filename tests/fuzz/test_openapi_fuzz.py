"""Schemathesis against the app's own OpenAPI schema: no 5xx and no schema violations.

Every operation is fuzzed in-process through the ASGI app (no server), signed in as an admin,
on a freshly migrated SQLite database. Schemathesis runs the app's lifespan itself and ends it
after each operation's test.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import schemathesis
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.config import Settings
from api.main import create_app
from api.migrate import upgrade_async
from api.users import service as users
from api.users.models import Role
from tests.api.conftest import make_settings

ADMIN_EMAIL = "fuzz-admin@example.com"

# Fuzzing sends hundreds of logins and sign-ups from one client; a 429 would hide what the
# endpoint does with the input, so every limit is raised out of reach.
RATE_LIMITS = {
    name: "100000/minute" for name in Settings.model_fields if name.startswith("rate_limit_")
}

# The schema comes from the routes alone; building the app opens no database (its lifespan does).
# `schemathesis.pytest.from_fixture` would load it from a fixture instead, but schemathesis 4.32
# reads `Function._nodeid`, which pytest 9.2 no longer has, so the schema is loaded here and the
# fixture's app is handed to each call.
schema = schemathesis.openapi.from_dict(
    create_app(make_settings("sqlite+aiosqlite://", Path("unused"))).openapi()
)
LOGIN = schema["/auth/login"]["POST"]


@pytest.fixture(scope="module")
async def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """An app on a migrated SQLite file holding one admin; its lifespan is not running."""
    tmp_path = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite+aiosqlite:///{tmp_path / 'tessera.db'}"
    await upgrade_async(url)
    config = make_settings(url, tmp_path, **RATE_LIMITS)
    # Random, so no generated change-password call can know the current password.
    password = secrets.token_urlsafe(24)
    setup = create_app(config)
    async with LifespanManager(setup), setup.state.sessionmaker() as session:
        await users.create(
            session,
            email=ADMIN_EMAIL,
            full_name="Fuzz Admin",
            password_hash=await setup.state.passwords.hash(password),
            role=Role.admin,
            email_verified=True,
        )
        await session.commit()
    # A second app on the same settings: schemathesis starts its lifespan on its own event loop.
    app = create_app(config)
    app.state.fuzz_credentials = {"email": ADMIN_EMAIL, "password": password}
    return app


def admin_headers(app: FastAPI) -> dict[str, str]:
    """Sign the admin in afresh and return the bearer header.

    Called for every example: a generated POST /auth/logout (`everywhere: true` too) ends the
    admin's sessions, so a token shared between examples would turn the rest of the run into 401s.
    The admin cannot lose the account itself: the password is unguessable (change-password
    fails), and the API refuses an admin's change of their own role or status and deletion of
    themselves (409), which is the only admin there is.
    """
    response = LOGIN.Case(body=app.state.fuzz_credentials).call(app=app)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    # Generation time varies with the machine; a slow CI runner must not fail the run for it.
    suppress_health_check=[HealthCheck.too_slow],
)
def test_openapi(case: Case, fuzz_app: FastAPI) -> None:
    case.call_and_validate(
        app=fuzz_app,
        headers=admin_headers(fuzz_app),
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
