"""The ASGI application: `uvicorn api.main:app`."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncEngine

from api import health, openapi, pages
from api.admin.router import router as admin_router
from api.admission import Admission, Gate
from api.auth.dependencies import optional_user
from api.auth.oauth_router import router as oauth_router
from api.auth.passwords import PasswordCheck
from api.auth.router import router as auth_router
from api.bookings import workflows as bookings_workflows
from api.bookings.door_router import router as door_router
from api.bookings.express_route import ExpressBookings, ExpressPool
from api.bookings.router import router as bookings_router
from api.config import Settings, get_settings
from api.db import make_engine, make_sessionmaker
from api.edge import install_edge
from api.errors import install_error_handlers
from api.events.categories_router import router as categories_router
from api.events.media_router import router as media_router
from api.events.router import router as events_router
from api.events.staff_router import router as staff_router
from api.events.workflows import EventWorkflows
from api.finance.router import router as finance_router
from api.inputs import refuse_unstorable
from api.migrate import current_revision, head_revision
from api.notifications.channels import make_providers as make_notification_providers
from api.notifications.dependencies import deliver_after_response
from api.notifications.router import admin as notifications_admin_router
from api.notifications.router import router as notifications_router
from api.observability import Metrics, RequestContextMiddleware, configure_logging
from api.pages import (
    account,
    attendees,
    back_office,
    checkout,
    door,
    event_editor,
    my_account,
    my_bookings,
    office,
    office_templates,
    organizer_booking,
    social_sign_in,
    storefront,
    waitlist,
)
from api.pages.routing import install_page_errors
from api.payments.providers import close_providers, make_providers
from api.payments.router import router as payments_router
from api.ratelimit import RateLimiter
from api.search.listing_router import router as listing_router
from api.search.router import router as search_router
from api.storage import make_storage
from api.users.router import router as users_router

PAGES = (
    storefront.router,
    account.router,
    checkout.router,
    my_bookings.router,
    my_account.router,
    social_sign_in.router,
    waitlist.router,
    door.router,
    door.scripts,
    back_office.router,
    event_editor.router,
    attendees.router,
    organizer_booking.router,
    office.router,
    office_templates.router,
)  # after the API: its paths never collide
EVENT_WORKFLOWS: EventWorkflows = bookings_workflows  # what the events routes call above them
ROUTERS = (
    health.router,
    auth_router,
    oauth_router,
    users_router,
    admin_router,
    categories_router,
    listing_router,  # between the two, where the document has always listed them
    events_router,
    search_router,
    media_router,
    staff_router,
    bookings_router,
    door_router,
    payments_router,
    finance_router,
    notifications_router,
    notifications_admin_router,
)


class DatabaseNotMigrated(RuntimeError):
    """The app will not serve a database whose schema is behind the code."""


async def ensure_migrated(settings: Settings, engine: AsyncEngine) -> None:
    expected = head_revision()
    current = await current_revision(engine)
    if current != expected:
        raise DatabaseNotMigrated(
            f"The database at {settings.database_url.split('@')[-1]} is at migration "
            f"{current or 'none'}, but this code needs {expected}. "
            "Run `tessera migrate` (or `make up`) first."
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API; tests pass their own settings."""
    settings = settings or get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level, json=settings.log_json)
        engine = make_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            lock_timeout_ms=settings.database_lock_timeout_ms,
        )
        try:
            await ensure_migrated(settings, engine)
            app.state.engine = engine
            app.state.sessionmaker = make_sessionmaker(engine)
            app.state.read_sessionmaker = make_sessionmaker(engine, read_only=True)
            app.state.rate_limiter = RateLimiter(settings.redis_url)
            app.state.passwords = PasswordCheck(settings)
            app.state.payment_providers = make_providers(app.state.sessionmaker, settings)
            app.state.notification_providers = make_notification_providers(settings)
            app.state.oauth_http = httpx.AsyncClient(timeout=10)
            if settings.express_open_at_start and hasattr(app.state, "express"):
                app.state.express.open_in_background()
            if settings.gc_freeze_at_start:
                # What start-up made (the app, its schemas, the ORM's mappers: most of the
                # heap) lives as long as the process: out of the collector's way, a full
                # collection during a burst walks only what requests made.
                gc.collect()
                gc.freeze()
            yield
        finally:
            await close_providers(getattr(app.state, "payment_providers", {}))
            if (express := getattr(app.state, "express", None)) is not None:
                await express.close()
            if (
                notification_providers := getattr(app.state, "notification_providers", None)
            ) is not None:
                await notification_providers.aclose()
            await engine.dispose()

    app = FastAPI(
        title="Tessera API",
        version="0.1.0",
        summary="Events, bookings, payments and notifications for ticket sellers.",
        description=openapi.DESCRIPTION,
        openapi_tags=openapi.TAGS,
        generate_unique_id_function=openapi.operation_ids(ROUTERS),
        lifespan=lifespan,
        dependencies=[Depends(refuse_unstorable)],
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.after_account_messages = deliver_after_response  # see api/auth/router.py
    app.state.event_workflows = EVENT_WORKFLOWS
    app.state.storage = make_storage(
        settings.media_url, settings.media_dir, settings.media_base_url
    )
    if settings.media_url is None:  # local media are served by the API itself
        app.mount(
            "/media", StaticFiles(directory=settings.media_dir, check_dir=False), name="media"
        )
    # Innermost: pages served from the shared cache are never held back by admission.
    app.state.admission = Gate(
        max_in_flight=settings.admission_max_in_flight,
        max_wait=settings.admission_max_wait_ms / 1000,
        key=settings.derived_key("queue-place"),
    )
    if settings.express_bookings and not settings.database_url.startswith("sqlite"):
        # Innermost of all: admitted like any request, then booked in one statement.
        app.state.express = ExpressPool(settings)
        app.add_middleware(ExpressBookings, settings=settings, state=app.state)
    app.add_middleware(Admission, gate=app.state.admission)
    # Added first, so it runs inside the request context (hits are counted and logged).
    app.add_middleware(pages.SharedPageCache, seconds=settings.page_cache_seconds)
    app.state.signed_in_pages = pages.SignedInPages(settings.page_cache_seconds)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    install_edge(app, settings.trusted_proxies)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    openapi.document(app, ROUTERS, optional_sign_in=optional_user)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    for router in PAGES:
        app.include_router(router)
    install_page_errors(app)
    return app


app = create_app()
