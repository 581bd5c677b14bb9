"""Providers behind one interface: email (a folder of .eml files, or SMTP), SMS (a folder, or
Twilio's Messages API), Web Push (VAPID) and the in-app inbox.

A provider either returns what it accepted (`Sent`) or raises `TemporaryFailure` (try again
later) or `PermanentFailure` (trying again cannot help).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

import aiosmtplib
import httpx
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async

from api.config import Settings


class TemporaryFailure(Exception):
    """The provider could not take it now (down, throttled, a 4xx SMTP reply)."""


class PermanentFailure(Exception):
    """The provider refused it for good (an invalid address or number, no subscription)."""

    def __init__(self, message: str, *, gone: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.gone = gone  # push subscriptions found expired on the way


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class PushTarget:
    id: str
    endpoint: str
    p256dh: str
    auth: str


@dataclass
class Outgoing:
    """One rendered message for one recipient."""

    key: str  # the notification's idempotency key: the same message always has the same key
    recipient: str
    subject: str
    text: str
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # push: where a tap leads
    push_targets: list[PushTarget] = field(default_factory=list)


@dataclass(frozen=True)
class Sent:
    provider: str
    message_id: str | None
    delivered: bool = False  # the inbox and local folders deliver at once
    gone: tuple[str, ...] = ()  # push subscriptions the push service says no longer exist


class Provider(Protocol):
    name: str

    async def send(self, message: Outgoing) -> Sent: ...


def email_message(settings: Settings, message: Outgoing) -> EmailMessage:
    """The MIME message: text and HTML alternatives, then the attachments."""
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False, usegmt=True)
    domain = settings.mail_from.rsplit("@", 1)[-1].rstrip(">").strip() or "tessera.localhost"
    # The same notification always carries the same Message-ID, so a mailbox that somehow
    # receives it twice can tell it is one message.
    digest = hashlib.sha256(message.key.encode()).hexdigest()[:32]
    email["Message-ID"] = f"<{digest}@{domain}>"
    for name, value in message.headers.items():
        email[name] = value
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        email.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return email


class FileMailer:
    """The embedded default: each message becomes `<mail_dir>/<key>.eml`, named by its key so
    sending again rewrites the same file."""

    name = "file"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: Outgoing) -> Sent:
        email = email_message(self.settings, message)
        self.settings.mail_dir.mkdir(parents=True, exist_ok=True)
        path = self.settings.mail_dir / f"{_safe(message.key)}.eml"
        path.write_bytes(bytes(email))
        return Sent(self.name, email["Message-ID"], delivered=True)


class SmtpMailer:
    """Email through an SMTP server (aiosmtplib), with STARTTLS or TLS and login as set."""

    name = "smtp"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: Outgoing) -> Sent:
        s = self.settings
        email = email_message(s, message)
        assert s.smtp_host is not None
        try:
            await aiosmtplib.send(
                email,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                use_tls=s.smtp_security == "tls",
                start_tls=s.smtp_security == "starttls",
                tls_context=ssl.create_default_context() if s.smtp_security != "none" else None,
                timeout=s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [error.code for error in exc.recipients]
            if all(500 <= code < 600 for code in codes):
                raise PermanentFailure(f"recipient refused: {exc.recipients[0]}") from exc
            raise TemporaryFailure(f"recipient deferred: {exc.recipients[0]}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600 and exc.code not in (552,):
                raise PermanentFailure(f"SMTP {exc.code} {exc.message}") from exc
            raise TemporaryFailure(f"SMTP {exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"SMTP unavailable: {exc}") from exc
        return Sent(self.name, email["Message-ID"])


class FileSms:
    """The embedded default for text messages: `<sms_dir>/<key>.txt`."""

    name = "file"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: Outgoing) -> Sent:
        self.settings.sms_dir.mkdir(parents=True, exist_ok=True)
        path = self.settings.sms_dir / f"{_safe(message.key)}.txt"
        path.write_text(f"To: {message.recipient}\n\n{message.text}\n", encoding="utf-8")
        return Sent(self.name, None, delivered=True)


class TwilioSms:
    """Twilio's Messages API: a form POST to /2010-04-01/Accounts/{sid}/Messages.json with
    HTTP basic auth; Twilio later calls the status callback with the message's fate."""

    name = "twilio"

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http

    async def send(self, message: Outgoing) -> Sent:
        s = self.settings
        assert s.twilio_account_sid is not None
        assert s.twilio_auth_token is not None
        form = {"To": message.recipient, "Body": message.text}
        if s.twilio_messaging_service_sid:
            form["MessagingServiceSid"] = s.twilio_messaging_service_sid
        else:
            form["From"] = s.twilio_from or ""
        form["StatusCallback"] = twilio_callback_url(s)
        base = s.twilio_api_base.rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{s.twilio_account_sid}/Messages.json"
        try:
            response = await self.http.post(
                url,
                data=form,
                auth=(s.twilio_account_sid, s.twilio_auth_token.get_secret_value()),
                timeout=10,
            )
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"Twilio unreachable: {exc}") from exc
        if response.status_code == 201:
            return Sent(self.name, str(response.json()["sid"]))
        detail = _twilio_error(response)
        if response.status_code == 429 or response.status_code >= 500:
            raise TemporaryFailure(detail)
        raise PermanentFailure(detail)


def _twilio_error(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"Twilio {response.status_code} error {body.get('code')}: {body.get('message')}"
    except ValueError:
        return f"Twilio {response.status_code}"


def twilio_callback_url(settings: Settings) -> str:
    return f"{settings.public_base_url.rstrip('/')}/notifications/webhooks/twilio"


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature: HMAC-SHA1 of the URL followed by each POST parameter's name and value
    in name order, base64-encoded (Twilio's documented webhook security)."""
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class WebPush:
    """Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291),
    through pywebpush, to every subscription the person has."""

    name = "webpush"

    def __init__(self, settings: Settings) -> None:
        assert settings.vapid_private_key is not None
        self.settings = settings
        key = settings.vapid_private_key.get_secret_value().strip()
        self.vapid = Vapid.from_pem(key.encode()) if "-----BEGIN" in key else Vapid.from_string(key)

    async def send(self, message: Outgoing) -> Sent:
        if not message.push_targets:
            raise PermanentFailure("no push subscription")
        payload = json.dumps({"title": message.subject, "body": message.text} | message.data)
        accepted: list[str] = []
        gone: list[str] = []
        passing: list[str] = []
        for target in message.push_targets:
            try:
                response = await webpush_async(
                    {
                        "endpoint": target.endpoint,
                        "keys": {"p256dh": target.p256dh, "auth": target.auth},
                    },
                    data=payload,
                    vapid_private_key=self.vapid,
                    vapid_claims={"sub": self.settings.vapid_subject},
                    ttl=self.settings.push_ttl_seconds,
                    timeout=10,
                    headers={
                        "Topic": hashlib.sha256(message.key.encode()).hexdigest()[:32],
                        "Urgency": "normal",
                    },
                )
            except WebPushException as exc:
                status = getattr(exc.response, "status", None)
                if status in (404, 410):
                    gone.append(target.id)
                elif status is not None and 400 <= status < 500 and status != 429:
                    gone.append(target.id)  # the subscription or its keys are unusable
                else:
                    passing.append(f"push service {status}: {exc}")
                continue
            except Exception as exc:  # aiohttp's connection errors have no common base of ours
                passing.append(f"push service unreachable: {exc}")
                continue
            location = response.headers.get("Location") if not isinstance(response, str) else None
            accepted.append(location or target.endpoint)
        if accepted:
            return Sent(self.name, accepted[0], gone=tuple(gone))
        if passing:
            raise TemporaryFailure("; ".join(passing))
        raise PermanentFailure("every push subscription has expired", gone=tuple(gone))

    def public_key(self) -> str:
        raw = self.vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Inbox:
    """The in-app inbox: the notification row is the message; reading the inbox shows it."""

    name = "inbox"

    async def send(self, message: Outgoing) -> Sent:
        return Sent(self.name, None, delivered=True)


def _safe(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in key)


@dataclass
class Providers:
    by_channel: dict[str, Provider]
    http: httpx.AsyncClient

    async def aclose(self) -> None:
        await self.http.aclose()


def make_providers(settings: Settings) -> Providers:
    """The provider of each channel the settings turn on (push only with a VAPID key)."""
    http = httpx.AsyncClient()
    channels: dict[str, Provider] = {
        "email": SmtpMailer(settings) if settings.mail_backend == "smtp" else FileMailer(settings),
        "sms": TwilioSms(settings, http) if settings.sms_backend == "twilio" else FileSms(settings),
        "in_app": Inbox(),
    }
    if settings.vapid_private_key is not None:
        channels["push"] = WebPush(settings)
    return Providers(channels, http)


def vapid_public_key(settings: Settings) -> str | None:
    if settings.vapid_private_key is None:
        return None
    return WebPush(settings).public_key()
