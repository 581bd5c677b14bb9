"""Builders for test data and readers of what the app wrote (mail, outbox, audit log)."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from api.audit import AuditEntry
from api.notifications import worker
from api.outbox import OutboxEvent
from api.users import service as users
from api.users.models import Role
from pipelines import search_index
from search.factory import make_backend
from tests.settle import settled_async

DEFAULT_PASSWORD = "violet-kettle-harbour-42"


@dataclass
class TestUser:
    __test__ = False

    id: uuid.UUID
    email: str
    password: str
    access_token: str = ""
    refresh_token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class Api:
    """The app under test and a client for it, with helpers that keep tests short."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client
        self._count = 0

    @property
    def settings(self) -> Any:
        return self.app.state.settings

    async def make_user(
        self,
        *,
        role: Role = Role.attendee,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        full_name: str = "Test Person",
        verified: bool = True,
        phone: str | None = None,
    ) -> TestUser:
        """Create an account through the service layer (roles other than attendee need it)."""
        self._count += 1
        email = email or f"user{self._count}-{uuid.uuid4().hex[:6]}@example.com"
        async with self.app.state.sessionmaker() as session:
            user = await users.create(
                session,
                email=email,
                full_name=full_name,
                password_hash=await self.app.state.passwords.hash(password),
                role=role,
                email_verified=verified,
                phone=phone,
            )
            await session.commit()
        return TestUser(id=user.id, email=email, password=password)

    async def login(self, user: TestUser) -> TestUser:
        response = await self.client.post(
            "/auth/login", json={"email": user.email, "password": user.password}
        )
        assert response.status_code == 200, response.text
        user.access_token = response.json()["access_token"]
        user.refresh_token = response.json()["refresh_token"]
        return user

    async def signed_in(self, role: Role = Role.attendee, **kwargs: Any) -> TestUser:
        return await self.login(await self.make_user(role=role, **kwargs))

    async def registered(self, email: str, password: str = DEFAULT_PASSWORD) -> TestUser:
        """The account that registering `email` through the API created."""
        rows = await self.outbox("user.registered")
        row = next(r for r in rows if r.payload["email"] == email)
        return TestUser(id=uuid.UUID(row.entity_id), email=email, password=password)

    def mails(self, to: str | None = None) -> list[EmailMessage]:
        directory = self.settings.mail_dir
        if not directory.exists():
            return []
        parser = BytesParser(policy=policy.default)
        messages = [parser.parsebytes(p.read_bytes()) for p in sorted(directory.glob("*.eml"))]
        return [m for m in messages if to is None or m["To"] == to]  # type: ignore[misc]

    def link_token(self, to: str, subject_part: str) -> str:
        """The token in the newest mail to `to` whose subject contains `subject_part`."""
        candidates = [m for m in self.mails(to) if subject_part.lower() in m["Subject"].lower()]
        assert candidates, f"no mail to {to} about {subject_part!r}"
        part = candidates[-1].get_body(preferencelist=("plain",))
        assert part is not None
        body = part.get_content()
        match = re.search(r"token=([A-Za-z0-9_\-]+)", body)
        assert match, body
        return match.group(1)

    def sms_code(self, to: str) -> str:
        directory = self.settings.sms_dir
        texts = [
            p.read_text()
            for p in sorted(directory.glob("*.txt"), key=lambda p: p.stat().st_mtime_ns)
        ]
        texts = [t for t in texts if t.startswith(f"To: {to}\n")]
        assert texts, f"no text message to {to}"
        match = re.search(r"code is (\d{6})", texts[-1])
        assert match
        return match.group(1)

    async def outbox_settled(self) -> None:
        """Wait until every outbox row written so far is readable by consumers (tests/settle.py)."""
        await settled_async(self.app.state.engine)

    async def sync_search_index(self) -> search_index.SyncResult:
        """What the pipelines' search sensor runs: the outbox since the cursor into the index."""
        await self.outbox_settled()
        settings = self.settings
        backend = make_backend("tantivy", index_dir=settings.search_dir)
        return await asyncio.to_thread(
            search_index.sync_database,
            settings.database_url,
            backend,
            index_dir=settings.search_dir,
            snapshot_dir=settings.snapshot_dir,
        )

    async def deliver_notifications(self, **options: Any) -> worker.Pass:
        """One pass of the notification worker: plan what the outbox calls for and send it."""
        await self.outbox_settled()
        state = self.app.state
        return await worker.run_once(
            state.sessionmaker, state.settings, state.notification_providers, **options
        )

    async def outbox(self, event_type: str | None = None) -> list[OutboxEvent]:
        async with self.app.state.sessionmaker() as session:
            query = select(OutboxEvent).order_by(OutboxEvent.id)
            if event_type is not None:
                query = query.where(OutboxEvent.event_type == event_type)
            return list(await session.scalars(query))

    async def audit(self, action: str | None = None) -> list[AuditEntry]:
        async with self.app.state.sessionmaker() as session:
            query = select(AuditEntry).order_by(AuditEntry.id)
            if action is not None:
                query = query.where(AuditEntry.action == action)
            return list(await session.scalars(query))
