"""Admins' templates: checked against the trigger's sample data, versioned, and previewed."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.config import Settings
from api.db import utcnow
from api.notifications import catalogue
from api.notifications import templates as rendering
from api.notifications.errors import (
    ChannelUnavailable,
    TemplateExists,
    TemplateInvalid,
    TemplateNotFound,
    UnknownTrigger,
)
from api.notifications.models import (
    Category,
    Channel,
    NotificationTemplate,
    NotificationTemplateVersion,
)


def _check_template(
    trigger: str, channel: Channel, subject: str, text: str, html: str | None
) -> None:
    if trigger not in catalogue.TRIGGERS:
        raise UnknownTrigger(f"There is no trigger called {trigger!r}.", field="trigger")
    if channel not in catalogue.CATEGORIES[catalogue.TRIGGERS[trigger].category].channels:
        raise ChannelUnavailable(
            f"{trigger} messages are not sent by {channel.value}.", field="channel"
        )
    if html is not None and channel != Channel.email:
        raise TemplateInvalid("Only email templates have an HTML body.", field="html_body")
    sample = catalogue.TRIGGERS[trigger].sample | {"base_url": "http://127.0.0.1:8000"}
    try:
        rendering.check(subject, text, html, sample)
    except rendering.TemplateInvalid as exc:
        raise TemplateInvalid(f"The template does not render: {exc}", field=exc.part) from exc


@dataclass(frozen=True)
class TemplateDraft:
    """A new template, its fields named as `NotificationTemplate` names them."""

    trigger: str
    channel: Channel
    locale: str
    variant: str
    weight: int
    active: bool
    subject: str
    text_body: str
    html_body: str | None


async def create_template(
    session: AsyncSession, *, draft: TemplateDraft, actor_id: uuid.UUID
) -> NotificationTemplate:
    """A new template in the caller's transaction."""
    _check_template(draft.trigger, draft.channel, draft.subject, draft.text_body, draft.html_body)
    template = NotificationTemplate(**asdict(draft), updated_by=actor_id)
    session.add(template)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise TemplateExists(
            f"{draft.trigger} already has a {draft.channel.value} template for "
            f"{draft.locale}, variant {draft.variant}: change that one instead.",
            field="variant",
        ) from exc
    _snapshot(session, template, actor_id)
    await outbox.record(session, "notification_template.created", template)
    return template


async def add_template(
    session: AsyncSession, *, draft: TemplateDraft, actor_id: uuid.UUID
) -> NotificationTemplate:
    """An admin's new template (`create_template`), committed."""
    template = await create_template(session, draft=draft, actor_id=actor_id)
    await session.commit()
    return template


# What each version of a template keeps: all that an admin can change.
_VERSIONED = ("weight", "active", "subject", "text_body", "html_body")


def _snapshot(session: AsyncSession, template: NotificationTemplate, actor_id: uuid.UUID) -> None:
    session.add(
        NotificationTemplateVersion(
            template_id=template.id,
            version=template.version,
            created_by=actor_id,
            **{name: getattr(template, name) for name in _VERSIONED},
        )
    )


async def get_template_or_raise(
    session: AsyncSession, *, template_id: uuid.UUID
) -> NotificationTemplate:
    template = await session.get(NotificationTemplate, template_id)
    if template is None:
        raise TemplateNotFound(f"No template with id {template_id}.", field="templateId")
    return template


async def update_template(
    session: AsyncSession,
    *,
    template: NotificationTemplate,
    changes: dict[str, Any],
    actor_id: uuid.UUID,
) -> NotificationTemplate:
    """A new version of the template; messages already planned keep the version they had."""
    merged = {
        "subject": template.subject,
        "text_body": template.text_body,
        "html_body": template.html_body,
    } | {k: v for k, v in changes.items() if k in ("subject", "text_body", "html_body")}
    _check_template(
        template.trigger,
        template.channel,
        merged["subject"],
        merged["text_body"],
        merged["html_body"],
    )
    for name, value in changes.items():
        setattr(template, name, value)
    template.updated_at = utcnow()
    template.updated_by = actor_id
    await session.flush()  # bumps the version
    _snapshot(session, template, actor_id)
    await outbox.record(session, "notification_template.updated", template)
    return template


async def edit_template(
    session: AsyncSession, *, template_id: uuid.UUID, changes: dict[str, Any], actor_id: uuid.UUID
) -> NotificationTemplate:
    """An admin's change to a template (`update_template`), committed."""
    template = await get_template_or_raise(session, template_id=template_id)
    template = await update_template(session, template=template, changes=changes, actor_id=actor_id)
    await session.commit()
    return template


async def list_templates(session: AsyncSession) -> list[NotificationTemplate]:
    return list(
        await session.scalars(
            select(NotificationTemplate).order_by(
                NotificationTemplate.trigger,
                NotificationTemplate.channel,
                NotificationTemplate.locale,
                NotificationTemplate.variant,
            )
        )
    )


async def template_versions(
    session: AsyncSession, *, template_id: uuid.UUID
) -> list[NotificationTemplateVersion]:
    return list(
        await session.scalars(
            select(NotificationTemplateVersion)
            .where(NotificationTemplateVersion.template_id == template_id)
            .order_by(NotificationTemplateVersion.version.desc())
        )
    )


async def template_history(
    session: AsyncSession, *, template_id: uuid.UUID
) -> list[NotificationTemplateVersion]:
    """Every version of a template that exists, newest first."""
    await get_template_or_raise(session, template_id=template_id)
    return await template_versions(session, template_id=template_id)


def preview(
    settings: Settings,
    *,
    trigger: str,
    channel: Channel,
    locale: str,
    subject: str | None,
    text_body: str | None,
    html_body: str | None,
) -> rendering.Rendered:
    """A message rendered with the trigger's sample data: the draft given, or the bundled one."""
    if trigger not in catalogue.TRIGGERS:
        raise UnknownTrigger(f"There is no trigger called {trigger!r}.", field="trigger")
    bundled = text_body is None
    if text_body is None:
        found = catalogue.bundled(trigger, channel, locale)
        if found is None:
            raise ChannelUnavailable(
                f"{trigger} has no bundled {channel.value} template.", field="channel"
            )
        wording = found[1]
        subject, text_body, html_body = wording.subject, wording.text, wording.html
    else:
        _check_template(trigger, channel, subject or "", text_body, html_body)
    spec = catalogue.TRIGGERS[trigger]
    context = spec.sample | {"base_url": settings.public_base_url}
    marketing = spec.category == Category.marketing and channel == Channel.email
    try:
        return rendering.render(
            subject=subject or "",
            text=text_body,
            html=html_body,
            context=context,
            email=channel == Channel.email,
            locale=locale,
            unsubscribe_url=(
                f"{settings.public_base_url}/notifications/unsubscribe?token=sample"
                if marketing
                else None
            ),
            trusted=bundled,
        )
    except rendering.TemplateInvalid as exc:  # e.g. past its budget with this base URL
        raise TemplateInvalid(f"The template does not render: {exc}", field=exc.part) from exc


async def preview_saved(
    session: AsyncSession, settings: Settings, *, template_id: uuid.UUID
) -> rendering.Rendered:
    """A saved template rendered with its trigger's sample data."""
    t = await get_template_or_raise(session, template_id=template_id)
    return preview(
        settings,
        trigger=t.trigger,
        channel=t.channel,
        locale=t.locale,
        subject=t.subject,
        text_body=t.text_body,
        html_body=t.html_body,
    )
