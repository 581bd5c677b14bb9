"""`Idempotency-Key` for POSTs: a repeat with the same key returns the first response.

The stored response is written in the same transaction as the work it answers for, so either
both land or neither does. Two concurrent requests with one key race on a unique index: the
loser's work is rolled back and it answers with the winner's response.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import JSON, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigIntPK, utcnow
from api.errors import Unprocessable

KEY_TTL = timedelta(hours=24)
REPLAY_HEADER = "Idempotent-Replayed"


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    scope_key: Mapped[str] = mapped_column(String(64), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    # Plain JSON, not JSONB: a replay must repeat the first answer byte for byte.
    response_body: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


@dataclass(frozen=True)
class StoredAnswer:
    """What an `IdempotencyRecord` keeps: written beside the work it answers for."""

    scope_key: str
    request_hash: str
    status_code: int
    body: Any
    created_at: datetime
    expires_at: datetime


class KeyReused(Unprocessable):
    code = "idempotency.key_reused"


class Idempotency:
    """What one request said about idempotency; routes call `replay` first and `respond` last."""

    def __init__(self, key: str | None, method: str, path: str, body: bytes) -> None:
        self.key = key
        self._method_path = f"{method} {path}"
        self.request_hash = hashlib.sha256(body).hexdigest()

    def _scope_key(self, principal: uuid.UUID | str | None) -> str:
        raw = f"{principal or 'anonymous'}|{self._method_path}|{self.key}"
        return hashlib.sha256(raw.encode()).hexdigest()

    async def _stored(self, session: AsyncSession, scope_key: str) -> IdempotencyRecord | None:
        record = await session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.scope_key == scope_key)
        )
        if record is not None and record.expires_at <= utcnow():
            await session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id)
            )
            return None
        return record

    def _answer(self, record: IdempotencyRecord) -> JSONResponse:
        if record.request_hash != self.request_hash:
            raise KeyReused(
                "This Idempotency-Key was already used with a different request body.",
                field="header.Idempotency-Key",
            )
        return JSONResponse(
            record.response_body, status_code=record.status_code, headers={REPLAY_HEADER: "true"}
        )

    async def replay(
        self, session: AsyncSession, principal: uuid.UUID | str | None = None
    ) -> JSONResponse | None:
        """The first response to this key, or None when this is the first request."""
        if self.key is None:
            return None
        record = await self._stored(session, self._scope_key(principal))
        return self._answer(record) if record is not None else None

    def answer(
        self, body: Any, *, status_code: int, principal: uuid.UUID | str | None = None
    ) -> StoredAnswer | None:
        """The row that keeps `body` (JSON-ready) as this key's answer; None without a key."""
        if self.key is None:
            return None
        now = utcnow()
        return StoredAnswer(
            scope_key=self._scope_key(principal),
            request_hash=self.request_hash,
            status_code=status_code,
            body=body,
            created_at=now,
            expires_at=now + KEY_TTL,
        )

    async def respond(
        self,
        session: AsyncSession,
        result: Any,
        *,
        status_code: int,
        principal: uuid.UUID | str | None = None,
    ) -> JSONResponse:
        """Store the response beside the work (the request's unit of work commits both).

        The key's unique index decides a race as the row is written: a loser waits for the
        winner's transaction, then its own work is rolled back and it answers as the winner did.
        """
        body = jsonable_encoder(result)
        answer = self.answer(body, status_code=status_code, principal=principal)
        if answer is None:
            return JSONResponse(body, status_code=status_code)
        session.add(
            IdempotencyRecord(
                scope_key=answer.scope_key,
                request_hash=answer.request_hash,
                status_code=answer.status_code,
                response_body=json.loads(json.dumps(answer.body)),
                created_at=answer.created_at,
                expires_at=answer.expires_at,
            )
        )
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()
            record = await self._stored(session, answer.scope_key)
            if record is None:
                raise
            return self._answer(record)
        return JSONResponse(body, status_code=status_code)


async def _idempotency(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=8,
            max_length=255,
            description="A unique key (a UUID) that makes a retried POST safe.",
        ),
    ] = None,
) -> Idempotency:
    return Idempotency(idempotency_key, request.method, request.url.path, await request.body())


IdempotencyDep = Annotated[Idempotency, Depends(_idempotency)]
