"""The signed-in person's account: the profile, which messages come on which channel, the
in-app inbox, and the unsubscribe page the marketing emails link to. The same service functions
as `PUT /users/profile`, `PUT /users/me/notification-preferences`, `GET /notifications` and
`POST /notifications/unsubscribe`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Form, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api.deps import SessionDep, SettingsDep
from api.errors import AppError
from api.notifications import catalogue
from api.notifications import inbox as inbox_service
from api.notifications import preferences as preferences_service
from api.notifications.models import Category, Channel
from api.pages.account import field_errors, link_failed
from api.pages.rendering import LOCALES, redirect, render
from api.pages.routing import FormRejected, page_router
from api.pages.visitor import CheckedForm, SignedIn, Visitor
from api.users import User
from api.users import service as users_service
from api.users.schemas import ProfileUpdate

router = page_router()
Text = Annotated[str, Form(max_length=2000)]
INBOX_PAGE = 20
PROFILE_FIELDS = ("full_name", "display_name", "phone", "locale", "timezone", "bio")
CLEARABLE = ProfileUpdate.clearable


def _profile_values(user: User) -> dict[str, str]:
    return {name: getattr(user, name) or "" for name in PROFILE_FIELDS}


def _profile_page(request: Request, user: User, **context: Any) -> dict[str, Any]:
    return {
        "values": _profile_values(user),
        "errors": {},
        "email": user.email,
        "email_verified": user.email_verified_at is not None,
        "languages": LOCALES,
        "saved": False,
    } | context


@router.get("/account/profile")
async def profile(request: Request, user: SignedIn, saved: bool = False) -> Response:
    return render(request, "account/profile.html", _profile_page(request, user, saved=saved))


@router.post("/account/profile")
async def save_profile(
    request: Request,
    form_ok: CheckedForm,
    user: SignedIn,
    session: SessionDep,
    full_name: Text = "",
    display_name: Text = "",
    phone: Text = "",
    locale: Text = "",
    timezone: Text = "",
    bio: Text = "",
) -> Response:
    """Every field of the form is sent: an emptied optional field is cleared."""
    given = {
        "full_name": full_name,
        "display_name": display_name,
        "phone": phone,
        "locale": locale,
        "timezone": timezone,
        "bio": bio,
    }
    changes = {
        name: (value.strip() or None) if name in CLEARABLE else value.strip()
        for name, value in given.items()
    }
    try:
        body = ProfileUpdate.model_validate(changes)
        await users_service.update_profile(session, user=user, changes=body)
    except (ValidationError, AppError) as error:
        context = _profile_page(request, user, values=given, errors=field_errors(error))
        raise FormRejected.render(request, "account/profile.html", context) from error
    request.state.page_locale = user.locale  # the next page speaks the chosen language
    return redirect(request, "/account/profile?saved=true")


def _choices(views: list[preferences_service.PreferenceView]) -> list[dict[str, Any]]:
    """One row per category, one cell per channel it can use."""
    rows: dict[Category, dict[str, Any]] = {}
    for view in views:
        row = rows.setdefault(
            view.category,
            {
                "category": view.category.value,
                "description": catalogue.CATEGORIES[view.category].description,
                "cells": {},
            },
        )
        row["cells"][view.channel.value] = view
    return list(rows.values())


@router.get("/account/notifications")
async def notification_settings(
    request: Request, user: SignedIn, session: SessionDep, saved: bool = False
) -> Response:
    views = await preferences_service.preferences(session, user_id=user.id)
    context = {"rows": _choices(views), "channels": [c.value for c in Channel], "saved": saved}
    return render(request, "account/notifications.html", context)


@router.post("/account/notifications")
async def save_notification_settings(
    request: Request, form_ok: CheckedForm, user: SignedIn, session: SessionDep
) -> Response:
    """A ticked box is on, an unticked one off; the mandatory ones cannot be switched off."""
    form = await request.form()
    views = await preferences_service.preferences(session, user_id=user.id)
    changes = [
        (v.category, v.channel, f"{v.category.value}.{v.channel.value}" in form)
        for v in views
        if not v.mandatory
    ]
    await preferences_service.change_preferences(session, user_id=user.id, changes=changes)
    return redirect(request, "/account/notifications?saved=true")


@router.get("/account/inbox")
async def inbox(
    request: Request,
    user: SignedIn,
    session: SessionDep,
    unread: bool = False,
) -> Response:
    """The in-app messages, newest first."""
    rows, unread_count = await inbox_service.inbox(
        session, user_id=user.id, unread_only=unread, before=None, limit=INBOX_PAGE
    )
    context = {"messages": rows, "unread": unread_count, "only_unread": unread}
    return render(request, "account/inbox.html", context)


@router.post("/account/inbox/{notification_id}/read")
async def mark_read(
    request: Request,
    notification_id: Annotated[uuid.UUID, Path()],
    form_ok: CheckedForm,
    user: SignedIn,
    session: SessionDep,
) -> Response:
    await inbox_service.mark_read(session, user_id=user.id, notification_id=notification_id)
    return redirect(request, "/account/inbox")


@router.post("/account/inbox/read-all")
async def mark_all_read(
    request: Request, form_ok: CheckedForm, user: SignedIn, session: SessionDep
) -> Response:
    await inbox_service.mark_all_read(session, user_id=user.id)
    return redirect(request, "/account/inbox")


Token = Annotated[str, Query(max_length=1000)]


@router.get("/account/unsubscribe")
async def unsubscribe_form(
    request: Request, visitor: Visitor, settings: SettingsDep, token: Token = ""
) -> Response:
    """The page an unsubscribe link opens: one button, so link scanners that follow links do
    not unsubscribe anyone (RFC 8058); no sign-in needed, the signed link is the credential."""
    try:
        _, category = preferences_service.read_unsubscribe_token(settings, token)
    except AppError as error:
        raise link_failed(request, error) from error
    context = {"token": token, "category": category.value, "done": False}
    return render(request, "account/unsubscribe.html", context)


@router.post("/account/unsubscribe")
async def unsubscribe(
    request: Request,
    form_ok: CheckedForm,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    try:
        category = await preferences_service.unsubscribe(session, settings, token=token)
    except AppError as error:
        raise link_failed(request, error) from error
    context = {"token": token, "category": category.value, "done": True}
    return render(request, "account/unsubscribe.html", context)
