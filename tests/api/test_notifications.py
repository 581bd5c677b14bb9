"""Notifications end to end: outbox events become messages, sent over SMTP (a real server on
loopback), Twilio's Messages API and Web Push (loopback servers speaking their wire formats),
with preferences, templates, A/B variants, retries and the admin's delivery log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pypdf import PdfReader
from sqlalchemy import select

from api.bookings import service as bookings_service
from api.db import utcnow
from api.notifications import worker
from api.notifications.channels import twilio_signature
from api.notifications.models import Notification, NotificationStatus
from api.notifications.service import variant_bucket
from api.users import service as users_service
from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_bookings import _book
from tests.api.test_events import published_event, ticket_body
from tests.api.test_payments import _pay
from tests.notifications.servers import (
    HttpService,
    Mailbox,
    http_service,
    push_answer,
    smtp_server,
    twilio_answer,
)

TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-auth-token-for-tests"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def twilio() -> Iterator[HttpService]:
    with http_service(twilio_answer) as service:
        yield service


@pytest.fixture
def push_service() -> Iterator[HttpService]:
    with http_service(push_answer) as service:
        yield service


@pytest.fixture
def settings_overrides(smtp: tuple[Mailbox, int], twilio: HttpService) -> dict[str, object]:
    vapid = Vapid()
    vapid.generate_keys()
    return {
        "rate_limit_login_ip": "1000/minute",
        "mail_backend": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp[1],
        "smtp_security": "none",
        "sms_backend": "twilio",
        "twilio_account_sid": TWILIO_SID,
        "twilio_auth_token": TWILIO_TOKEN,
        "twilio_from": "+15005550006",
        "twilio_api_base": twilio.base,
        "vapid_private_key": vapid.private_pem().decode(),
        "email_webhook_secret": "email-webhook-secret",
        "notification_max_attempts": 3,
        "notification_retry_base_seconds": 60,
    }


async def _paid_booking(
    api: Api, quantity: int = 2
) -> tuple[TestUser, dict[str, Any], dict[str, Any]]:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(
        api,
        owner,
        tickets=[ticket_body(price_cents=2500, quantity=50, tax_name="VAT", tax_rate_bps=1900)],
    )
    buyer = await api.signed_in()
    booking = (await _book(api, buyer, event, (0, quantity))).json()
    paid = await _pay(api, buyer, booking, "pm_card_visa")
    assert paid.json()["status"] == "succeeded", paid.text
    return buyer, event, booking


async def _notifications(api: Api, **where: Any) -> list[Notification]:
    async with api.app.state.sessionmaker() as session:
        query = select(Notification).order_by(Notification.created_at, Notification.id)
        for name, value in where.items():
            query = query.where(getattr(Notification, name) == value)
        return list(await session.scalars(query))


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def test_booking_confirmation_arrives_over_smtp_with_tickets_invoice_and_calendar(
    api: Api, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    buyer, event, booking = await _paid_booking(api, quantity=2)
    result = await api.deliver_notifications()
    assert result.dead == 0
    [mail] = [m for m in mailbox.messages if m["To"] == buyer.email]
    assert mail["Subject"] == f"Your tickets for {event['title']}"
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "Booking " + uuid.UUID(booking["id"]).hex[:8].upper() in text.get_content()
    total = booking["total_cents"]
    assert booking["currency"] == "EUR"
    assert f"€{total // 100}.{total % 100:02d}" in text.get_content()  # an English reader's form
    assert "<strong>" in html.get_content()
    files = {part.get_filename(): part for part in mail.iter_attachments()}
    tickets_pdf = next(p for name, p in files.items() if name and name.startswith("tickets-"))
    invoice_pdf = next(
        p for name, p in files.items() if name and name.endswith(".pdf") and p is not tickets_pdf
    )
    calendar = next(p for name, p in files.items() if name and name.endswith(".ics"))
    codes = [
        t["qr_payload"].split(".")[1]
        for t in (
            await api.client.get(f"/bookings/{booking['id']}/tickets", headers=buyer.headers)
        ).json()
    ]
    ticket_text = _pdf_text(tickets_pdf.get_content())
    assert len(codes) == 2
    assert all(code in ticket_text for code in codes)
    assert "Invoice" in _pdf_text(invoice_pdf.get_content())
    ics = calendar.get_content()
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert "BEGIN:VEVENT" in ics
    assert event["title"].split()[0] in ics
    # The same booking is also in the buyer's inbox, unread.
    inbox = (await api.client.get("/notifications", headers=buyer.headers)).json()
    assert inbox["unread"] == 1
    assert inbox["items"][0]["trigger"] == "booking_confirmed"
    assert inbox["items"][0]["booking_id"] == booking["id"]
    item = inbox["items"][0]["id"]
    read = await api.client.post(f"/notifications/{item}/read", headers=buyer.headers)
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert (await api.client.get("/notifications", headers=buyer.headers)).json()["unread"] == 0
    stranger = await api.signed_in()
    assert (
        await api.client.post(f"/notifications/{item}/read", headers=stranger.headers)
    ).status_code == 404
    # A second round sends nothing again.
    again = await api.deliver_notifications()
    assert again.sent == 0
    assert len([m for m in mailbox.messages if m["To"] == buyer.email]) == 1


async def test_admin_sees_each_message_and_its_attempts(api: Api) -> None:
    buyer, event, _ = await _paid_booking(api)
    await api.deliver_notifications()
    admin = await api.signed_in(Role.admin)
    page = await api.client.get(
        "/admin/notifications",
        headers=admin.headers,
        params={"user_id": str(buyer.id), "channel": "email", "status": "sent"},
    )
    assert page.status_code == 200, page.text
    [item] = page.json()["items"]
    assert item["trigger"] == "booking_confirmed"
    assert item["event_id"] == event["id"]
    detail = (
        await api.client.get(f"/admin/notifications/{item['id']}", headers=admin.headers)
    ).json()
    assert [a["outcome"] for a in detail["delivery_attempts"]] == ["sent"]
    assert detail["provider"] == "smtp"
    by_event = await api.client.get(
        "/admin/notifications", headers=admin.headers, params={"event_id": event["id"]}
    )
    assert {i["channel"] for i in by_event.json()["items"]} == {"email", "in_app"}
    forbidden = await api.client.get("/admin/notifications", headers=buyer.headers)
    assert forbidden.status_code == 403


async def test_text_messages_go_through_twilio_and_its_status_callback_is_verified(
    api: Api, twilio: HttpService
) -> None:
    buyer = await api.signed_in(phone="+4915112345678")
    async with api.app.state.sessionmaker() as session:
        user = await users_service.get(session, user_id=buyer.id)
        assert user is not None
        await users_service.mark_phone_verified(session, user=user, phone="+4915112345678")
        await session.commit()
    chosen = await api.client.put(
        "/users/me/notification-preferences",
        headers=buyer.headers,
        json={"preferences": [{"category": "orders", "channel": "sms", "enabled": True}]},
    )
    assert chosen.status_code == 200, chosen.text
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=5)])
    await _book(api, buyer, event, (0, 1))
    await api.deliver_notifications()
    [request] = twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    expected_auth = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected_auth}"
    form = request.form()
    assert form["To"] == "+4915112345678"
    assert form["From"] == "+15005550006"
    assert "confirmed" in form["Body"]
    callback_url = form["StatusCallback"]
    [sms] = await _notifications(api, channel="sms")
    assert sms.status == NotificationStatus.sent
    assert sms.provider_message_id is not None
    params = {"MessageSid": sms.provider_message_id, "MessageStatus": "delivered"}
    forged = await api.client.post(
        "/notifications/webhooks/twilio", data=params, headers={"X-Twilio-Signature": "forged"}
    )
    assert forged.status_code == 403
    assert forged.json()["code"] == "notification.webhook_signature_invalid"
    signature = twilio_signature(TWILIO_TOKEN, callback_url, params)
    delivered = await api.client.post(
        "/notifications/webhooks/twilio", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "delivered"


async def test_twilio_refusing_a_number_dead_letters_at_once(api: Api, twilio: HttpService) -> None:
    twilio.answers.append((400, {"code": 21211, "message": "The 'To' number is not valid."}))
    buyer = await api.signed_in()
    async with api.app.state.sessionmaker() as session:
        user = await users_service.get(session, user_id=buyer.id)
        assert user is not None
        await users_service.mark_phone_verified(session, user=user, phone="+15005550001")
        await session.commit()
    await api.client.put(
        "/users/me/notification-preferences",
        headers=buyer.headers,
        json={"preferences": [{"category": "orders", "channel": "sms", "enabled": True}]},
    )
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=5)])
    await _book(api, buyer, event, (0, 1))
    result = await api.deliver_notifications()
    assert result.dead == 1
    [sms] = await _notifications(api, channel="sms")
    assert sms.status == NotificationStatus.dead
    assert sms.error is not None
    assert "21211" in sms.error


def _browser_keys() -> tuple[ec.EllipticCurvePrivateKey, str, bytes, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth = b"0123456789abcdef"
    encode = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")  # noqa: E731
    return key, encode(public), auth, encode(auth)


async def test_web_push_is_encrypted_for_the_browser_and_expired_subscriptions_go(
    api: Api, push_service: HttpService
) -> None:
    public_key = (await api.client.get("/notifications/push/public-key")).json()["public_key"]
    assert len(base64.urlsafe_b64decode(public_key + "==")) == 65
    buyer = await api.signed_in()
    key, p256dh, auth, auth_b64 = _browser_keys()
    subscribed = await api.client.post(
        "/users/me/push-subscriptions",
        headers=buyer.headers,
        json={
            "endpoint": f"{push_service.base}/push/{uuid.uuid4().hex}",
            "keys": {"p256dh": p256dh, "auth": auth_b64},
        },
    )
    assert subscribed.status_code == 201, subscribed.text
    await api.client.put(
        "/users/me/notification-preferences",
        headers=buyer.headers,
        json={"preferences": [{"category": "orders", "channel": "push", "enabled": True}]},
    )
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=5)])
    await _book(api, buyer, event, (0, 1))
    await api.deliver_notifications()
    [request] = push_service.requests
    assert request.headers["content-encoding"] == "aes128gcm"
    assert request.headers["authorization"].startswith("vapid t=")
    assert f"k={public_key}" in request.headers["authorization"]
    assert int(request.headers["ttl"]) > 0
    payload = json.loads(http_ece.decrypt(request.body, private_key=key, auth_secret=auth))
    assert payload["title"] == "Booking confirmed"
    assert event["title"] in payload["body"]
    # The push service says the subscription is gone: it is dropped, the message dead-lettered.
    push_service.answers.append((410, {}))
    second = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=5)])
    await _book(api, buyer, second, (0, 1))
    await api.deliver_notifications()
    left = (await api.client.get("/users/me/push-subscriptions", headers=buyer.headers)).json()
    assert left == []
    dead = [
        n for n in await _notifications(api, channel="push") if n.status == NotificationStatus.dead
    ]
    assert len(dead) == 1


async def test_preferences_keep_transactional_email_and_need_opt_in_for_marketing(api: Api) -> None:
    user = await api.signed_in()
    prefs = (
        await api.client.get("/users/me/notification-preferences", headers=user.headers)
    ).json()
    table = {(p["category"], p["channel"]): p for p in prefs["preferences"]}
    assert (
        table[("orders", "email")] | {"enabled": True, "mandatory": True}
        == table[("orders", "email")]
    )
    assert table[("marketing", "email")]["enabled"] is False
    assert table[("reminders", "email")]["enabled"] is True
    refused = await api.client.put(
        "/users/me/notification-preferences",
        headers=user.headers,
        json={
            "preferences": [
                {"category": "marketing", "channel": "email", "enabled": True},
                {"category": "orders", "channel": "email", "enabled": False},
            ]
        },
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "notification.preference_mandatory"
    assert refused.json()["field"] == "preferences[1].enabled"
    unchanged = (
        await api.client.get("/users/me/notification-preferences", headers=user.headers)
    ).json()
    assert {(p["category"], p["channel"]): p["enabled"] for p in unchanged["preferences"]}[
        ("marketing", "email")
    ] is False  # all or nothing
    no_sms = await api.client.put(
        "/users/me/notification-preferences",
        headers=user.headers,
        json={"preferences": [{"category": "marketing", "channel": "sms", "enabled": True}]},
    )
    assert no_sms.json()["code"] == "notification.channel_unavailable"
    # Reminders switched off by email: the 24-hour reminder comes only to the inbox.
    await api.client.put(
        "/users/me/notification-preferences",
        headers=user.headers,
        json={"preferences": [{"category": "reminders", "channel": "email", "enabled": False}]},
    )
    owner = await api.signed_in(Role.organizer)
    starts = utcnow() + timedelta(days=3)
    event = await published_event(
        api,
        owner,
        tickets=[ticket_body(price_cents=0, quantity=5)],
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=2)).isoformat(),
    )
    await _book(api, user, event, (0, 1))
    async with api.app.state.sessionmaker() as session:
        await bookings_service.announce_reminders(session, now=starts - timedelta(hours=23))
        await session.commit()
    await api.deliver_notifications()
    reminders = await _notifications(api, trigger="reminder_24h")
    assert {n.channel.value for n in reminders} == {"in_app"}
    unauthenticated = await api.client.get("/users/me/notification-preferences")
    assert unauthenticated.status_code == 401


async def _template(api: Api, admin: TestUser, **body: Any) -> dict[str, Any]:
    response = await api.client.post(
        "/admin/notification-templates", headers=admin.headers, json=body
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_marketing_goes_to_opted_in_customers_with_one_click_unsubscribe_and_ab_variants(
    api: Api, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    admin = await api.signed_in(Role.admin)
    for variant, subject in (
        ("A", "New: {{ event_title }}"),
        ("B", "Don't miss {{ event_title }}"),
    ):
        await _template(
            api,
            admin,
            trigger="new_event",
            channel="email",
            locale="en",
            variant=variant,
            weight=1,
            subject=subject,
            text_body="Hello {{ name }}, {{ organizer_name }} announced {{ event_title }}: "
            "{{ event_url }}",
        )
    owner = await api.signed_in(Role.organizer)
    first = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=50)])
    fans = [await api.signed_in() for _ in range(4)]
    quiet = await api.signed_in()
    for person in [*fans, quiet]:
        await _book(api, person, first, (0, 1))
    for fan in fans:
        opted = await api.client.put(
            "/users/me/notification-preferences",
            headers=fan.headers,
            json={"preferences": [{"category": "marketing", "channel": "email", "enabled": True}]},
        )
        assert opted.status_code == 200
    await api.deliver_notifications()
    mailbox.messages.clear()
    second = await published_event(
        api, owner, tickets=[ticket_body(price_cents=0, quantity=50)], title="Second Night"
    )
    await api.deliver_notifications()
    assert sorted(m["To"] for m in mailbox.messages) == sorted(f.email for f in fans)
    planned = await _notifications(api, trigger="new_event")
    assert {n.user_id for n in planned} == {f.id for f in fans}
    for notification in planned:
        expected = (
            "A" if variant_bucket("new_event:email", str(notification.user_id), 2) < 1 else "B"
        )
        assert notification.variant == expected
        assert notification.campaign == "new_event:email"
        assert notification.event_id == uuid.UUID(second["id"])
    mail = mailbox.messages[0]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = mail["List-Unsubscribe"].strip("<>")
    assert "Unsubscribe: " + link in mail.get_body(preferencelist=("plain",)).get_content()
    token = link.split("token=", 1)[1]
    opened = await api.client.get("/notifications/unsubscribe", params={"token": token})
    assert opened.status_code == 303  # a browser lands on the page that asks first
    page = await api.client.get(opened.headers["location"])
    assert page.status_code == 200
    assert '<form action="/account/unsubscribe" method="post">' in page.text
    done = await api.client.post("/notifications/unsubscribe", params={"token": token})
    assert done.status_code == 200, done.text
    assert done.json() == {"category": "marketing", "unsubscribed": True}
    tampered = await api.client.post(
        "/notifications/unsubscribe", params={"token": token[:-3] + "abc"}
    )
    assert tampered.status_code == 422
    assert tampered.json()["code"] == "notification.unsubscribe_invalid"
    who = next(f for f in fans if f.email == mail["To"])
    prefs = (await api.client.get("/users/me/notification-preferences", headers=who.headers)).json()
    assert {(p["category"], p["channel"]): p["enabled"] for p in prefs["preferences"]}[
        ("marketing", "email")
    ] is False
    # Republishing does not announce twice; the unsubscribed fan is left out of the next one.
    mailbox.messages.clear()
    third = await published_event(
        api, owner, tickets=[ticket_body(price_cents=0, quantity=5)], title="Third Night"
    )
    await api.deliver_notifications()
    assert sorted(m["To"] for m in mailbox.messages) == sorted(
        f.email for f in fans if f is not who
    )
    assert third["id"]


async def test_templates_are_checked_versioned_previewed_and_admin_only(api: Api) -> None:
    admin = await api.signed_in(Role.admin)
    broken = await api.client.post(
        "/admin/notification-templates",
        headers=admin.headers,
        json={
            "trigger": "booking_confirmed",
            "channel": "email",
            "subject": "Hi",
            "text_body": "{% if %}",
        },
    )
    assert broken.status_code == 422
    assert broken.json()["code"] == "notification.template_invalid"
    assert broken.json()["field"] == "text_body"
    escape = await api.client.post(
        "/admin/notification-templates",
        headers=admin.headers,
        json={
            "trigger": "booking_confirmed",
            "channel": "email",
            "subject": "Hi",
            "text_body": "{{ name.__class__.__mro__[1].__subclasses__() }}",
        },
    )
    assert escape.status_code == 422  # the sandbox refuses
    unknown = await api.client.post(
        "/admin/notification-templates",
        headers=admin.headers,
        json={"trigger": "nope", "channel": "email", "subject": "Hi", "text_body": "x"},
    )
    assert unknown.json()["field"] == "trigger"
    created = await _template(
        api,
        admin,
        trigger="booking_confirmed",
        channel="email",
        locale="en",
        subject="Tickets: {{ event_title }}",
        text_body="Hi {{ name }}, booking {{ booking_reference }}.",
    )
    assert created["version"] == 1
    duplicate = await api.client.post(
        "/admin/notification-templates",
        headers=admin.headers,
        json={
            "trigger": "booking_confirmed",
            "channel": "email",
            "locale": "en",
            "subject": "x",
            "text_body": "y",
        },
    )
    assert duplicate.status_code == 409
    # A booking planned now keeps version 1 even after the template changes.
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=5)])
    buyer = await api.signed_in()
    await _book(api, buyer, event, (0, 1))
    state = api.app.state
    await worker.plan_pending(
        state.sessionmaker,
        state.settings,
        consumer=worker.EVENTS_CONSUMER,
        event_types=worker.planner.EVENT_TRIGGERS,
    )
    changed = await api.client.put(
        f"/admin/notification-templates/{created['id']}",
        headers=admin.headers,
        json={"subject": "Your tickets: {{ event_title }}"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    versions = (
        await api.client.get(
            f"/admin/notification-templates/{created['id']}/versions", headers=admin.headers
        )
    ).json()
    assert [v["version"] for v in versions] == [2, 1]
    await api.deliver_notifications()
    [email] = await _notifications(api, channel="email", user_id=buyer.id)
    assert email.template_version == 1
    assert email.subject == f"Tickets: {event['title']}"
    preview = await api.client.post(
        "/admin/notification-templates/preview",
        headers=admin.headers,
        json={"trigger": "booking_confirmed", "channel": "email", "locale": "de"},
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["subject"] == "Deine Tickets für Night of the Analytical Engine"
    assert "<html" in preview.json()["html"]
    saved = await api.client.get(
        f"/admin/notification-templates/{created['id']}/preview", headers=admin.headers
    )
    assert saved.json()["subject"] == "Your tickets: Night of the Analytical Engine"
    catalogue = (
        await api.client.get("/admin/notification-templates", headers=admin.headers)
    ).json()
    assert {t["name"] for t in catalogue["triggers"]} >= {
        "verify_email",
        "reset_password",
        "booking_confirmed",
        "booking_cancelled",
        "booking_refunded",
        "waitlist_offer",
        "event_changed",
        "event_cancelled",
        "reminder_24h",
        "reminder_1h",
        "new_event",
    }
    assert all(
        any(b["trigger"] == t["name"] for b in catalogue["bundled"]) for t in catalogue["triggers"]
    )
    attendee = await api.signed_in()
    assert (
        await api.client.get("/admin/notification-templates", headers=attendee.headers)
    ).status_code == 403


async def test_passing_failures_back_off_then_dead_letter_and_an_admin_can_retry(
    api: Api, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    mailbox.replies.extend(["451 4.3.0 try again later"] * 3)
    buyer, _, _ = await _paid_booking(api)
    first = await api.deliver_notifications()
    assert first.retrying == 1
    [email] = await _notifications(api, channel="email", user_id=buyer.id)
    assert email.status == NotificationStatus.queued
    # Equal jitter: between half and all of the 60-second base.
    delay = (email.next_attempt_at - utcnow()).total_seconds()
    assert 25 <= delay <= 61
    assert (await api.deliver_notifications()).sent == 0  # not due yet
    later = utcnow() + timedelta(minutes=2)
    second = await api.deliver_notifications(now=later)
    assert second.retrying == 1
    [email] = await _notifications(api, channel="email", user_id=buyer.id)
    assert 60 <= (email.next_attempt_at - later).total_seconds() <= 120  # doubled
    third = await api.deliver_notifications(now=utcnow() + timedelta(minutes=10))
    assert third.dead == 1
    [email] = await _notifications(api, channel="email", user_id=buyer.id)
    assert email.status == NotificationStatus.dead
    assert mailbox.messages == []
    admin = await api.signed_in(Role.admin)
    detail = (
        await api.client.get(f"/admin/notifications/{email.id}", headers=admin.headers)
    ).json()
    assert [a["outcome"] for a in detail["delivery_attempts"]] == ["retry", "retry", "dead"]
    assert all("451" in a["error"] for a in detail["delivery_attempts"])
    retried = await api.client.post(f"/admin/notifications/{email.id}/retry", headers=admin.headers)
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "queued"
    await api.deliver_notifications()
    assert [m["To"] for m in mailbox.messages] == [buyer.email]
    again = await api.client.post(f"/admin/notifications/{email.id}/retry", headers=admin.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "notification.not_retryable"


async def test_a_refused_address_is_dead_lettered_without_retries(
    api: Api, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    mailbox.replies.append("550 5.1.1 no such mailbox")
    buyer, _, _ = await _paid_booking(api)
    assert (await api.deliver_notifications()).dead == 1
    [email] = await _notifications(api, channel="email", user_id=buyer.id)
    assert email.status == NotificationStatus.dead
    assert email.attempts == 1


def _email_signature(secret: str, body: bytes, stamp: int | None = None) -> str:
    stamp = stamp or int(time.time())
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


async def test_email_bounce_callback_marks_the_message_failed(
    api: Api, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    buyer, _, _ = await _paid_booking(api)
    await api.deliver_notifications()
    message_id = mailbox.messages[0]["Message-ID"]
    body = json.dumps(
        {"message_id": message_id, "event": "bounced", "detail": "550 mailbox full"}
    ).encode()
    unsigned = await api.client.post("/notifications/webhooks/email", content=body)
    assert unsigned.status_code == 403
    stale = await api.client.post(
        "/notifications/webhooks/email",
        content=body,
        headers={
            "Tessera-Signature": _email_signature(
                "email-webhook-secret", body, int(time.time()) - 3600
            )
        },
    )
    assert stale.status_code == 403
    bounced = await api.client.post(
        "/notifications/webhooks/email",
        content=body,
        headers={"Tessera-Signature": _email_signature("email-webhook-secret", body)},
    )
    assert bounced.status_code == 200, bounced.text
    assert bounced.json()["status"] == "failed"
    [email] = await _notifications(api, channel="email", user_id=buyer.id)
    assert email.status == NotificationStatus.failed
    assert email.error == "bounced: 550 mailbox full"
    # A late "delivered" does not undo the bounce.
    late = json.dumps({"message_id": message_id, "event": "delivered"}).encode()
    await api.client.post(
        "/notifications/webhooks/email",
        content=late,
        headers={"Tessera-Signature": _email_signature("email-webhook-secret", late)},
    )
    [email] = await _notifications(api, channel="email", user_id=buyer.id)
    assert email.status == NotificationStatus.failed


async def test_event_changes_and_cancellation_reach_ticket_holders_once(
    api: Api, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=10)])
    holders = [await api.signed_in() for _ in range(2)]
    for holder in holders:
        await _book(api, holder, event, (0, 1))
    await api.deliver_notifications()
    mailbox.messages.clear()
    retitled = await api.client.put(
        f"/events/{event['id']}", headers=owner.headers, json={"title": "A New Name"}
    )
    assert retitled.status_code == 200, retitled.text
    await api.deliver_notifications()
    assert mailbox.messages == []  # the title is not worth a message
    later = {
        "starts_at": (utcnow() + timedelta(days=40)).isoformat(),
        "ends_at": (utcnow() + timedelta(days=40, hours=3)).isoformat(),
    }
    moved = await api.client.put(f"/events/{event['id']}", headers=owner.headers, json=later)
    assert moved.status_code == 200, moved.text
    await api.deliver_notifications()
    assert sorted(m["To"] for m in mailbox.messages) == sorted(h.email for h in holders)
    assert all(m["Subject"] == "A New Name has changed" for m in mailbox.messages)
    mailbox.messages.clear()
    cancelled = await api.client.post(
        f"/events/{event['id']}/cancel", headers=owner.headers, json={"reason": "Storm warning"}
    )
    assert cancelled.status_code == 200, cancelled.text
    await api.deliver_notifications()
    assert sorted(m["To"] for m in mailbox.messages) == sorted(h.email for h in holders)
    assert all(m["Subject"] == "A New Name is cancelled" for m in mailbox.messages)
    assert "Storm warning" in mailbox.messages[0].get_body(preferencelist=("plain",)).get_content()


async def test_several_workers_at_once_send_each_message_once(
    api: Api, smtp: tuple[Mailbox, int]
) -> None:
    import asyncio

    mailbox, _ = smtp
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=40)])
    buyers = [await api.signed_in() for _ in range(8)]
    for buyer in buyers:
        await _book(api, buyer, event, (0, 1))
    rounds = await asyncio.gather(*(api.deliver_notifications() for _ in range(4)))
    assert sum(r.sent for r in rounds) == 16  # an email and an inbox message each
    assert sorted(m["To"] for m in mailbox.messages) == sorted(b.email for b in buyers)
    assert len({m["Message-ID"] for m in mailbox.messages}) == 8
