"""HTTP routes of the admin's templates (with their versions and previews) and delivery log."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from api.auth.dependencies import AdminDep
from api.deps import SessionDep, SettingsDep
from api.errors import problem_responses
from api.notifications import catalogue, delivery_log, template_store
from api.notifications.models import Channel, NotificationStatus
from api.notifications.schemas import (
    AdminNotification,
    AdminNotificationDetail,
    AdminNotificationPage,
    AttemptOut,
    BundledTemplate,
    PreviewIn,
    PreviewOut,
    TemplateCatalogue,
    TemplateIn,
    TemplateOut,
    TemplateUpdate,
    TemplateVersionOut,
    TriggerInfo,
)

admin = APIRouter(
    prefix="/admin", tags=["admin", "notifications"], responses=problem_responses(401, 403, 422)
)


# Templates ------------------------------------------------------------------------------


@admin.get("/notification-templates", response_model=TemplateCatalogue)
async def list_templates(_admin: AdminDep, session: SessionDep) -> TemplateCatalogue:
    """Every trigger with its sample data, the bundled templates, and admins' templates (which
    take precedence for their trigger, channel and locale; several variants make an A/B test)."""
    return TemplateCatalogue(
        templates=[
            TemplateOut.model_validate(t) for t in await template_store.list_templates(session)
        ],
        bundled=[
            BundledTemplate(
                trigger=name,
                channel=channel,
                locale=locale,
                subject=w.subject,
                text_body=w.text,
                html_body=w.html,
            )
            for name, spec in catalogue.TRIGGERS.items()
            for (channel, locale), w in spec.wording.items()
        ],
        triggers=[
            TriggerInfo(
                name=name,
                category=spec.category,
                description=spec.description,
                attachments=list(spec.attachments),
                sample=spec.sample,
            )
            for name, spec in catalogue.TRIGGERS.items()
        ],
    )


@admin.post(
    "/notification-templates",
    response_model=TemplateOut,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409),
)
async def create_template(
    body: TemplateIn, admin_user: AdminDep, session: SessionDep
) -> TemplateOut:
    """A template for a trigger, channel, locale and variant. It must render with the
    trigger's sample data; it is used for messages planned from now on."""
    template = await template_store.add_template(
        session,
        draft=template_store.TemplateDraft(**body.model_dump()),
        actor_id=admin_user.id,
    )
    return TemplateOut.model_validate(template)


@admin.post("/notification-templates/preview", response_model=PreviewOut)
async def preview_template(body: PreviewIn, _admin: AdminDep, settings: SettingsDep) -> PreviewOut:
    """Render a draft (or, without a text body, the bundled template) with sample data."""
    rendered = template_store.preview(settings, **body.model_dump())
    return PreviewOut(subject=rendered.subject, text=rendered.text, html=rendered.html)


@admin.get(
    "/notification-templates/{templateId}",
    response_model=TemplateOut,
    responses=problem_responses(404),
)
async def get_template(templateId: uuid.UUID, _admin: AdminDep, session: SessionDep) -> TemplateOut:
    """One template, at its latest version."""
    return TemplateOut.model_validate(
        await template_store.get_template_or_raise(session, template_id=templateId)
    )


@admin.put(
    "/notification-templates/{templateId}",
    response_model=TemplateOut,
    responses=problem_responses(404),
)
async def update_template(
    templateId: uuid.UUID, body: TemplateUpdate, admin_user: AdminDep, session: SessionDep
) -> TemplateOut:
    """A new version of a template (its wording, A/B weight or whether it is used)."""
    template = await template_store.edit_template(
        session,
        template_id=templateId,
        changes=body.model_dump(exclude_unset=True),
        actor_id=admin_user.id,
    )
    return TemplateOut.model_validate(template)


@admin.get(
    "/notification-templates/{templateId}/versions",
    response_model=list[TemplateVersionOut],
    responses=problem_responses(404),
)
async def template_versions(
    templateId: uuid.UUID, _admin: AdminDep, session: SessionDep
) -> list[TemplateVersionOut]:
    """Every wording the template has had, newest first."""
    return [
        TemplateVersionOut.model_validate(v)
        for v in await template_store.template_history(session, template_id=templateId)
    ]


@admin.get(
    "/notification-templates/{templateId}/preview",
    response_model=PreviewOut,
    responses=problem_responses(404),
)
async def preview_saved_template(
    templateId: uuid.UUID, _admin: AdminDep, session: SessionDep, settings: SettingsDep
) -> PreviewOut:
    """A saved template rendered with its trigger's sample data."""
    rendered = await template_store.preview_saved(session, settings, template_id=templateId)
    return PreviewOut(subject=rendered.subject, text=rendered.text, html=rendered.html)


# The delivery log -----------------------------------------------------------------------


@admin.get("/notifications", response_model=AdminNotificationPage)
async def list_notifications(
    _admin: AdminDep,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    notification_status: Annotated[NotificationStatus | None, Query(alias="status")] = None,
    channel: Channel | None = None,
    user_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    trigger: Annotated[str | None, Query(max_length=50)] = None,
) -> AdminNotificationPage:
    """Every message, newest first, by status, channel, person, event or trigger."""
    rows, total = await delivery_log.list_notifications(
        session,
        page=page,
        page_size=page_size,
        status=notification_status,
        channel=channel,
        user_id=user_id,
        event_id=event_id,
        trigger=trigger,
    )
    return AdminNotificationPage(
        items=[AdminNotification.model_validate(n) for n in rows],
        total=total,
        page=page,
        page_size=page_size,
    )


def _detail(found: delivery_log.Detail) -> AdminNotificationDetail:
    return AdminNotificationDetail(
        **AdminNotification.model_validate(found.notification).model_dump(),
        delivery_attempts=[AttemptOut.model_validate(a) for a in found.attempts],
    )


@admin.get(
    "/notifications/{notificationId}",
    response_model=AdminNotificationDetail,
    responses=problem_responses(404),
)
async def get_notification(
    notificationId: uuid.UUID, _admin: AdminDep, session: SessionDep
) -> AdminNotificationDetail:
    """One message with each delivery attempt."""
    return _detail(await delivery_log.detail(session, notification_id=notificationId))


@admin.post(
    "/notifications/{notificationId}/retry",
    response_model=AdminNotificationDetail,
    responses=problem_responses(404, 409),
)
async def retry_notification(
    notificationId: uuid.UUID, _admin: AdminDep, session: SessionDep
) -> AdminNotificationDetail:
    """Queue a dead-lettered message again, with a fresh set of attempts."""
    return _detail(await delivery_log.retry_dead(session, notification_id=notificationId))
