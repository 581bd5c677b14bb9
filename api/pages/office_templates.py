"""The admins' notification templates from pages: every trigger with its bundled wording and
the admins' own templates, a preview of any of them with the trigger's sample data, a new
template (previewed before it is saved), and a saved one changed (a new version), weighted or
switched off, with its versions listed. The same template store as the JSON API's
`/admin/notification-templates` routes, so the same checks: a template must render."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import SessionDep, SettingsDep
from api.errors import AppError
from api.notifications import catalogue, template_store
from api.notifications.models import Channel
from api.notifications.schemas import PreviewIn, TemplateIn, TemplateUpdate
from api.pages.account import field_errors
from api.pages.office import Admin
from api.pages.rendering import redirect, render
from api.pages.routing import FormRejected, page_router
from api.pages.visitor import CheckedForm

router = page_router()
FIELDS = ("trigger", "channel", "locale", "variant", "subject", "text_body", "html_body")


async def _context(session: AsyncSession, **extra: Any) -> dict[str, Any]:
    return {
        "triggers": catalogue.TRIGGERS,
        "templates": await template_store.list_templates(session),
        "channels": [c.value for c in Channel],
        "values": {"channel": "email", "locale": "en", "variant": "default"},
        "errors": {},
        "preview": None,
    } | extra


@router.get("/office/templates")
async def templates(
    request: Request,
    user: Admin,
    session: SessionDep,
    settings: SettingsDep,
    trigger: Annotated[str, Query(max_length=50)] = "",
    channel: Annotated[str, Query(max_length=20)] = "email",
    locale: Annotated[str, Query(max_length=35)] = "en",
) -> Response:
    """Every trigger and template; with `trigger`, the bundled wording previewed."""
    preview = None
    errors: dict[str, str] = {}
    if trigger:
        try:
            asked = PreviewIn.model_validate(
                {"trigger": trigger, "channel": channel, "locale": locale}
            )
            preview = template_store.preview(settings, **asked.model_dump())
        except (ValidationError, AppError) as error:
            errors = field_errors(error)
    context = await _context(
        session,
        preview=preview,
        previewed=trigger,
        errors=errors,
        values={"trigger": trigger, "channel": channel, "locale": locale, "variant": "default"},
    )
    return render(request, "office_templates.html", context)


@router.post("/office/templates")
async def add_template(
    request: Request,
    _form: CheckedForm,
    user: Admin,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Preview a draft (the form's Preview button) or save it as a new template."""
    sent = await request.form()
    values = {name: str(sent.get(name, "")) for name in FIELDS}
    fields = {k: v for k, v in values.items() if v.strip()} | {
        "html_body": values["html_body"] or None
    }
    try:
        if sent.get("action") == "preview":
            asked = PreviewIn.model_validate(
                {k: v for k, v in fields.items() if k != "variant"}
                | {"text_body": values["text_body"] or None}
            )
            preview = template_store.preview(settings, **asked.model_dump())
            context = await _context(session, values=values, preview=preview, previewed="draft")
            return render(request, "office_templates.html", context)
        body = TemplateIn.model_validate(fields)
        await template_store.add_template(
            session,
            draft=template_store.TemplateDraft(**body.model_dump()),
            actor_id=user.id,
        )
    except (ValidationError, AppError) as error:
        context = await _context(session, values=values, errors=field_errors(error))
        status = error.status if isinstance(error, AppError) else 422
        raise FormRejected.render(
            request, "office_templates.html", context, status_code=status
        ) from None
    return redirect(request, "/office/templates?saved=1")


TemplateId = Annotated[uuid.UUID, Path()]
EDITABLE = ("subject", "text_body", "html_body", "weight")


async def _template_context(
    session: AsyncSession, template_id: uuid.UUID, **extra: Any
) -> dict[str, Any]:
    template = await template_store.get_template_or_raise(session, template_id=template_id)
    values = {name: str(getattr(template, name) or "") for name in EDITABLE}
    return {
        "template": template,
        "versions": await template_store.template_versions(session, template_id=template.id),
        "values": values,
        "errors": {},
        "preview": None,
    } | extra


def _number(text: str) -> int | str:
    """A whole number as typed; anything else goes to the rules as it is, to be refused."""
    return int(text.strip()) if text.strip().isdigit() else text


@router.get("/office/templates/{template_id}")
async def template_page(
    request: Request, template_id: TemplateId, user: Admin, session: SessionDep
) -> Response:
    """One of the admins' templates: its wording to change, whether it is in use, its versions."""
    context = await _template_context(session, template_id)
    return render(request, "office_template.html", context)


@router.post("/office/templates/{template_id}")
async def change_template(
    request: Request,
    template_id: TemplateId,
    _form: CheckedForm,
    user: Admin,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Preview the changed wording, save it as the template's next version, or switch the
    template on or off (messages already planned keep the version they had)."""
    sent = await request.form()
    template = await template_store.get_template_or_raise(session, template_id=template_id)
    action = str(sent.get("action", "save"))
    values = {name: str(sent.get(name, "")) for name in EDITABLE}
    try:
        if action in ("switch_off", "switch_on"):
            changes = TemplateUpdate(active=action == "switch_on")
        else:
            changes = TemplateUpdate.model_validate(
                {
                    "subject": values["subject"],
                    "text_body": values["text_body"],
                    "html_body": values["html_body"] or None,
                    "weight": _number(values["weight"]),
                }
            )
        if action == "preview":
            preview = template_store.preview(
                settings,
                trigger=template.trigger,
                channel=template.channel,
                locale=template.locale,
                subject=changes.subject,
                text_body=changes.text_body,
                html_body=changes.html_body,
            )
            context = await _template_context(session, template.id, values=values, preview=preview)
            return render(request, "office_template.html", context)
        await template_store.edit_template(
            session,
            template_id=template.id,
            changes=changes.model_dump(exclude_unset=True),
            actor_id=user.id,
        )
    except (ValidationError, AppError) as error:
        context = await _template_context(
            session, template.id, values=values, errors=field_errors(error)
        )
        status = error.status if isinstance(error, AppError) else 422
        raise FormRejected.render(
            request, "office_template.html", context, status_code=status
        ) from None
    return redirect(request, f"/office/templates/{template.id}?saved=1")
