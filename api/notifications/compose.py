"""A notification as it goes out: its wording rendered, its secrets unsealed, its attachments
(tickets, invoice, calendar entry) made, its push targets found."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import service as bookings_service
from api.config import Settings
from api.db import utcnow
from api.message_requests import unseal
from api.notifications import catalogue
from api.notifications import templates as rendering
from api.notifications.channels import Attachment, Outgoing, PermanentFailure, PushTarget
from api.notifications.models import (
    Category,
    Channel,
    Notification,
    NotificationTemplateVersion,
    PushSubscription,
)
from api.notifications.preferences import unsubscribe_url
from api.payments import service as payments_service


async def compose(
    session: AsyncSession, settings: Settings, notification: Notification, *, bundled: bool = False
) -> Outgoing:
    """The message as it goes out: rendered from the template version it was planned with (or,
    `bundled`, the bundled wording), its secrets unsealed, its attachments made."""
    admins = (
        not bundled
        and notification.template_id is not None
        and notification.template_version is not None
    )
    if admins:
        version = await session.get(
            NotificationTemplateVersion, (notification.template_id, notification.template_version)
        )
        if version is None:
            raise PermanentFailure("its template version no longer exists")
        subject, text, html = version.subject, version.text_body, version.html_body
    else:
        found = catalogue.bundled(notification.trigger, notification.channel, notification.locale)
        if found is None:
            raise PermanentFailure(
                f"no {notification.channel.value} wording for {notification.trigger}"
            )
        wording = found[1]
        subject, text, html = wording.subject, wording.text, wording.html
    context = dict(notification.context) | unseal(settings, notification.sealed)
    email = notification.channel == Channel.email
    unsubscribe = (
        unsubscribe_url(settings, user_id=notification.user_id, category=Category.marketing)
        if notification.category == Category.marketing and notification.user_id is not None
        else None
    )
    if unsubscribe is not None:
        context["unsubscribe_url"] = unsubscribe
    rendered = rendering.render(
        subject=subject,
        text=text,
        html=html,
        context=context,
        email=email,
        locale=notification.locale,
        unsubscribe_url=unsubscribe if email else None,
        trusted=not admins,
    )
    message = Outgoing(
        key=notification.idempotency_key,
        recipient=notification.recipient,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        data={
            "notification_id": str(notification.id),
            "url": context.get("booking_url") or context.get("event_url") or "",
        },
    )
    if email and unsubscribe is not None:
        message.text = f"{message.text.rstrip()}\n\n--\nUnsubscribe: {unsubscribe}\n"
        message.headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        message.headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if email:
        message.attachments = await _attachments(session, settings, notification, context)
    if notification.channel == Channel.push and notification.user_id is not None:
        subscriptions = await session.scalars(
            select(PushSubscription).where(PushSubscription.user_id == notification.user_id)
        )
        message.push_targets = [
            PushTarget(str(s.id), s.endpoint, s.p256dh, s.auth) for s in subscriptions
        ]
    return message


async def _attachments(
    session: AsyncSession, settings: Settings, notification: Notification, context: dict[str, Any]
) -> list[Attachment]:
    found: list[Attachment] = []
    reference = str(context.get("booking_reference") or notification.id.hex[:8]).lower()
    for kind in notification.attachments:
        if kind == "tickets" and notification.booking_id is not None:
            pdf = await bookings_service.tickets_pdf(
                session, settings, booking_id=notification.booking_id
            )
            if pdf is not None:
                found.append(Attachment(f"tickets-{reference}.pdf", "application/pdf", pdf))
        elif kind == "invoice" and notification.booking_id is not None:
            invoice = await payments_service.invoice_pdf(
                session, booking_id=notification.booking_id
            )
            if invoice is not None:
                found.append(Attachment(invoice[0], "application/pdf", invoice[1]))
        elif kind == "calendar" and context.get("starts_at"):
            found.append(
                Attachment(
                    f"event-{reference}.ics",
                    "text/calendar",
                    calendar_entry(
                        context, uid=f"{notification.booking_id or notification.id}@tessera"
                    ),
                )
            )
    return found


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _ics_time(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_entry(context: dict[str, Any], *, uid: str) -> bytes:
    """An iCalendar (RFC 5545) event for the booking, so it lands in the person's calendar."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Tessera//Tickets//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{utcnow():%Y%m%dT%H%M%SZ}",
        f"DTSTART:{_ics_time(context['starts_at'])}",
        f"DTEND:{_ics_time(context.get('ends_at') or context['starts_at'])}",
        f"SUMMARY:{_ics_text(str(context.get('event_title', '')))}",
        f"LOCATION:{_ics_text(str(context.get('venue', '')))}",
        f"URL:{context.get('booking_url') or context.get('event_url', '')}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()
