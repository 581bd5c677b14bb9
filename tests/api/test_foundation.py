"""Shared machinery: problem documents, health, metrics, request ids, access declarations."""

from __future__ import annotations

import ast
import inspect
import json
import sys
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import ValidationError

from api.config import Settings
from api.deps import ACCESS_ATTR
from api.main import PAGES, ROUTERS, DatabaseNotMigrated, create_app
from tests.api.conftest import make_settings
from tests.api.factories import Api

PROBLEM = "application/problem+json"


async def test_health_is_ok(api: Api) -> None:
    response = await api.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_database_and_migration(api: Api) -> None:
    body = (await api.client.get("/ready")).json()
    assert body["status"] == "ready"
    assert body["database"] is True
    assert body["revision"] == body["expected_revision"] is not None


async def test_unknown_route_is_a_problem_document(api: Api) -> None:
    response = await api.client.get("/no/such/route")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "http.not_found"
    assert body["status"] == 404
    assert body["instance"] == "/no/such/route"
    assert body["request_id"] == response.headers["x-request-id"]


async def test_validation_errors_name_each_field(api: Api) -> None:
    response = await api.client.post(
        "/auth/register", json={"email": "not-an-email", "password": "x", "extra": 1}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "validation_error"
    fields = {error["field"] for error in body["errors"]}
    assert {"body.email", "body.full_name", "body.extra"} <= fields


async def test_malformed_json_is_422_not_500(api: Api) -> None:
    response = await api.client.post(
        "/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_request_id_is_echoed_or_made(api: Api) -> None:
    given = await api.client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    hostile = await api.client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert hostile.headers["x-request-id"] != "bad id\twith spaces"
    assert len(hostile.headers["x-request-id"]) == 32


async def test_metrics_count_requests_by_route_and_status(api: Api) -> None:
    await api.client.get("/health")
    await api.client.get("/users/00000000-0000-0000-0000-000000000000")
    text = (await api.client.get("/metrics")).text
    assert 'tessera_http_requests_total{method="GET",route="/health",status="200"} 1.0' in text
    assert 'route="/users/{userId}",status="401"' in text
    assert "tessera_http_request_duration_seconds_bucket" in text


async def test_unhandled_error_is_500_without_internals(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom() -> None:
        raise RuntimeError("secret internal detail: password=hunter2")

    app.add_api_route("/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "internal"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text


async def test_app_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", tmp_path)
    with pytest.raises(DatabaseNotMigrated, match="tessera migrate"):
        async with LifespanManager(create_app(settings)):
            pass


def test_placeholder_secret_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="TESSERA_SECRET_KEY"):
        Settings(env="production")
    with pytest.raises(ValidationError, match="TESSERA_SECRET_KEY"):
        Settings(env="production", secret_key="short")  # type: ignore[arg-type]
    ok = Settings(env="production", secret_key="x" * 48)  # type: ignore[arg-type]
    assert ok.env == "production"
    assert Settings(env="development").env == "development"


def _declares_access(dependant: Dependant) -> bool:
    return any(
        hasattr(dep.call, ACCESS_ATTR) or _declares_access(dep) for dep in dependant.dependencies
    )


def test_every_route_declares_who_may_call_it() -> None:
    routes = [r for router in ROUTERS + PAGES for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 20
    undeclared = [
        f"{sorted(r.methods)} {r.path}" for r in routes if not _declares_access(r.dependant)
    ]
    assert undeclared == []


def _calls_named(module: object, names: set[str]) -> list[str]:
    tree = ast.parse(inspect.getsource(module))  # type: ignore[arg-type]
    return [
        f"{getattr(module, '__name__', module)}:{node.lineno} .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in names
    ]


def test_no_route_ends_a_transaction_itself() -> None:
    """Routers parse, authorise, call one service and render: the request's unit of work
    commits (or rolls back) for them. Pages too."""
    routes = [r for router in ROUTERS + PAGES for r in router.routes if isinstance(r, APIRoute)]
    modules = {sys.modules[r.endpoint.__module__] for r in routes}
    assert len(modules) > 10
    found = [call for module in modules for call in _calls_named(module, {"commit", "rollback"})]
    assert found == []


def _sync_dependencies(dependant: Dependant) -> set[str]:
    found: set[str] = set()
    for sub in dependant.dependencies:
        call = sub.call
        is_async = (
            inspect.iscoroutinefunction(call)
            or inspect.isasyncgenfunction(call)
            or inspect.iscoroutinefunction(type(call).__call__)  # a security scheme's instance
        )
        if call is not None and not is_async:
            found.add(f"{call.__module__}.{getattr(call, '__qualname__', call)}")
        found |= _sync_dependencies(sub)
    return found


def test_no_dependency_hops_to_a_worker_thread() -> None:
    """FastAPI runs a plain `def` dependency in its thread pool: a thread hop (and, under load,
    a wait for the interpreter lock) on every request that uses it. Ours are all async."""
    routes = [r for router in ROUTERS + PAGES for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 100
    found = set().union(*(_sync_dependencies(r.dependant) for r in routes))
    assert found == set()


EXPECTED_OPERATIONS = {
    ("post", "/auth/register"),
    ("post", "/auth/login"),
    ("post", "/auth/refresh"),
    ("post", "/auth/logout"),
    ("post", "/auth/change-password"),
    ("post", "/auth/reset-password"),
    ("post", "/auth/confirm-reset"),
    ("post", "/auth/verify-email"),
    ("post", "/auth/verify-phone"),
    ("get", "/users/profile"),
    ("put", "/users/profile"),
    ("get", "/users/{userId}"),
    ("get", "/admin/users"),
    ("delete", "/admin/users/{userId}"),
    ("put", "/admin/users/{userId}/role"),
    ("get", "/admin/users/stats"),
    ("get", "/admin/audit-log"),
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/metrics"),
    ("post", "/events"),
    ("get", "/events"),
    ("get", "/events/{eventId}"),
    ("get", "/events/slug/{slug}"),
    ("put", "/events/{eventId}"),
    ("delete", "/events/{eventId}"),
    ("post", "/events/{eventId}/publish"),
    ("post", "/events/{eventId}/cancel"),
    ("post", "/events/{eventId}/duplicate"),
    ("get", "/events/organizer"),
    ("get", "/events/category/{categoryId}"),
    ("post", "/categories"),
    ("get", "/categories"),
    ("post", "/events/{eventId}/media"),
    ("get", "/events/{eventId}/media"),
    ("delete", "/events/{eventId}/media/{mediaId}"),
    ("post", "/events/{eventId}/ticket-types"),
    ("get", "/events/{eventId}/ticket-types"),
    ("put", "/events/{eventId}/ticket-types/{ticketTypeId}"),
    ("delete", "/events/{eventId}/ticket-types/{ticketTypeId}"),
    ("post", "/bookings"),
    ("get", "/bookings/{bookingId}"),
    ("get", "/users/me/bookings"),
    ("post", "/bookings/{bookingId}/cancel"),
    ("post", "/bookings/{bookingId}/confirm"),
    ("get", "/events/{eventId}/bookings"),
    ("post", "/events/{eventId}/waitlist"),
    ("delete", "/events/{eventId}/waitlist"),
    ("get", "/events/{eventId}/waitlist"),
    ("get", "/bookings/{bookingId}/tickets"),
    ("post", "/events/{eventId}/check-ins"),
    ("post", "/bookings/{bookingId}/payments"),
    ("get", "/payments/{paymentId}"),
    ("post", "/payments/{paymentId}/sandbox/authenticate"),
    ("post", "/payments/{paymentId}/refunds"),
    ("post", "/payments/{paymentId}/mark-paid"),
    ("post", "/payments/webhooks/stripe"),
    ("post", "/payments/webhooks/sandbox"),
    ("get", "/bookings/{bookingId}/invoice"),
    ("get", "/admin/organizers/{userId}/fees"),
    ("put", "/admin/organizers/{userId}/fees"),
    ("get", "/finance/exports/{report}"),
}


async def test_openapi_lists_every_operation_with_schemas_and_errors(api: Api) -> None:
    spec = (await api.client.get("/openapi.json")).json()
    operations = {(m, p) for p, item in spec["paths"].items() for m in item}
    assert operations >= EXPECTED_OPERATIONS
    for method, path in EXPECTED_OPERATIONS - {("get", "/health"), ("get", "/metrics")}:
        operation = spec["paths"][path][method]
        responses = operation["responses"]
        success = [code for code in responses if code.startswith("2")]
        assert success, f"{method} {path} documents no success response"
        errors = [code for code in responses if code.startswith(("4", "5"))]
        assert errors, f"{method} {path} documents no error response"
        for code in errors:
            if code in ("503",):
                continue
            content = responses[code]["content"]
            assert "application/problem+json" in content, f"{method} {path} {code}"
        bodiless = (
            "/auth/logout",
            "/auth/verify-phone/send",
            "/events/{eventId}/publish",
            "/events/{eventId}/duplicate",
            "/bookings/{bookingId}/confirm",
            "/payments/{paymentId}/sandbox/authenticate",
            "/payments/{paymentId}/mark-paid",
        )
        if method in ("post", "put") and path not in bodiless:
            assert "requestBody" in operation, f"{method} {path} has no request schema"
    assert "Problem" in spec["components"]["schemas"]


def test_env_example_lists_every_setting() -> None:
    listed = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (Path(__file__).parents[2] / ".env.example").read_text().splitlines()
        if "=" in line and line.lstrip("# ").startswith("TESSERA_")
    }
    expected = {f"TESSERA_{name.upper()}" for name in Settings.model_fields}
    assert expected - listed == set()


async def test_unreadable_body_is_a_documented_400(api: Api) -> None:
    response = await api.client.post(
        "/auth/refresh", content=b"\xff", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    spec = (await api.client.get("/openapi.json")).json()
    assert "400" in spec["paths"]["/auth/refresh"]["post"]["responses"]


async def test_logs_are_json_lines_with_the_request_id(
    database_url: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(database_url, tmp_path, log_json=True, log_level="INFO")
    application = create_app(settings)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/health", headers={"X-Request-ID": "log-test-1"})
    lines = [
        json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")
    ]
    access = [line for line in lines if line.get("logger") == "tessera.access"]
    assert access, lines
    assert access[-1]["request_id"] == response.headers["x-request-id"] == "log-test-1"
    assert access[-1]["route"] == "/health"
    assert access[-1]["status"] == 200
    assert "duration_ms" in access[-1]
