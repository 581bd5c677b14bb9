"""The admins' office: people (found by name or email, given another role, suspended or
reactivated, erased) and the catalogue's categories, from pages. The same service functions as
the JSON API's `/admin/users` and `/categories` routes, so the same rules and audit trail."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Form, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.admin import service as admin_service
from api.deps import SessionDep, declares_access
from api.errors import AppError, Forbidden
from api.events import service as events_service
from api.events.schemas import CategoryCreate
from api.pages.problems import Problem
from api.pages.rendering import redirect, render
from api.pages.routing import FormRejected, page_router
from api.pages.visitor import CheckedForm, SignedIn
from api.users import User
from api.users import service as users_service

router = page_router()
PersonId = Annotated[uuid.UUID, Path()]
PAGE_SIZE = 50
ROLES = [role.value for role in users_service.Role]


@declares_access("admins, signed in (others are sent to sign in)")
async def admin_visitor(user: SignedIn) -> User:
    if user.role != users_service.Role.admin:
        raise Forbidden("The office is for admins.")
    return user


Admin = Annotated[User, Depends(admin_visitor)]


@router.get("/office/people")
async def people(
    request: Request,
    user: Admin,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    role: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Everyone, newest first, found by name or email and filtered by role."""
    chosen = users_service.Role(role) if role in ROLES else None
    rows, total = await users_service.list_users(
        session, page=page, page_size=PAGE_SIZE, role=chosen, q=q.strip() or None
    )
    context = {
        "rows": rows,
        "total": total,
        "q": q,
        "role": role,
        "roles": ROLES,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
    }
    return render(request, "office_people.html", context)


async def _person(session: AsyncSession, person_id: uuid.UUID) -> User:
    return await users_service.get_or_raise(session, user_id=person_id)


def _person_context(person: User, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"person": person, "roles": ROLES, "errors": errors or {}}


@router.get("/office/people/{person_id}")
async def person_page(
    request: Request, person_id: PersonId, user: Admin, session: SessionDep
) -> Response:
    person = await _person(session, person_id)
    return render(request, "office_person.html", _person_context(person))


async def _or_refuse(
    request: Request, session: AsyncSession, person_id: uuid.UUID, action: Any
) -> None:
    try:
        await action
    except AppError as error:
        person = await _person(session, person_id)
        context = _person_context(person, {error.field or "form": Problem.of(error)})
        raise FormRejected.render(
            request, "office_person.html", context, status_code=error.status
        ) from None


@router.post("/office/people/{person_id}/role")
async def change_role(
    request: Request,
    person_id: PersonId,
    _form: CheckedForm,
    user: Admin,
    session: SessionDep,
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    if role not in ROLES:
        raise FormRejected.render(
            request,
            "office_person.html",
            _person_context(
                await _person(session, person_id),
                {"role": Problem("Choose a role from the list.", "validation.enum")},
            ),
        )
    changing = admin_service.change_role(
        session, actor=user, user_id=person_id, role=users_service.Role(role)
    )
    await _or_refuse(request, session, person_id, changing)
    return redirect(request, f"/office/people/{person_id}?saved=role")


@router.post("/office/people/{person_id}/status")
async def change_status(
    request: Request,
    person_id: PersonId,
    _form: CheckedForm,
    user: Admin,
    session: SessionDep,
    status: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Suspend (which signs them out everywhere) or reactivate an account."""
    wanted = (
        users_service.UserStatus.suspended
        if status == "suspended"
        else users_service.UserStatus.active
    )
    changing = admin_service.change_status(session, actor=user, user_id=person_id, status=wanted)
    await _or_refuse(request, session, person_id, changing)
    return redirect(request, f"/office/people/{person_id}?saved=status")


@router.post("/office/people/{person_id}/erase")
async def erase(
    request: Request,
    person_id: PersonId,
    _form: CheckedForm,
    user: Admin,
    session: SessionDep,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Erase a person's personal data and end their sessions, once confirmed."""
    if confirm != "on":
        raise FormRejected.render(
            request,
            "office_person.html",
            _person_context(
                await _person(session, person_id),
                {"confirm": Problem("Tick the box to confirm.", "validation.missing")},
            ),
        )
    await _or_refuse(
        request,
        session,
        person_id,
        admin_service.erase_user(session, actor=user, user_id=person_id),
    )
    return redirect(request, f"/office/people/{person_id}?saved=erased")


async def _categories_context(session: AsyncSession, **extra: Any) -> dict[str, Any]:
    return {
        "categories": await events_service.list_categories(session),
        "values": {},
        "errors": {},
    } | extra


@router.get("/office/categories")
async def categories(request: Request, user: Admin, session: SessionDep) -> Response:
    """The catalogue's categories with their upcoming events, and adding one."""
    return render(request, "office_categories.html", await _categories_context(session))


@router.post("/office/categories")
async def add_category(
    request: Request,
    _form: CheckedForm,
    user: Admin,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    values = {"name": name, "description": description}
    try:
        body = CategoryCreate.model_validate(
            {"name": name.strip(), "description": description.strip() or None}
        )
        await events_service.create_category(session, name=body.name, description=body.description)
    except (ValidationError, AppError) as error:
        if isinstance(error, AppError):
            errors = {"name": Problem.of(error)}
        else:
            errors = {
                str(p["loc"][0]): Problem(p["msg"], f"validation.{p['type']}")
                for p in error.errors()
            }
        context = await _categories_context(session, values=values, errors=errors)
        status = error.status if isinstance(error, AppError) else 422
        raise FormRejected.render(
            request, "office_categories.html", context, status_code=status
        ) from None
    return redirect(request, "/office/categories")
