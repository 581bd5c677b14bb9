"""The floor to compare against: bare FastAPI doing the same database reads as an
authenticated request, with none of our middleware, token checks or error machinery."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api.auth.models import AuthSession
from api.db import make_engine, make_sessionmaker
from api.users.models import User


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = make_engine(os.environ["TESSERA_DATABASE_URL"])
    app.state.sessionmaker = make_sessionmaker(engine, read_only=True)
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/profile")
async def profile(user_id: uuid.UUID, session_id: uuid.UUID) -> dict[str, Any]:
    async with app.state.sessionmaker() as session:
        user = await session.get(User, user_id)
        auth_session = await session.get(AuthSession, session_id)
    assert user is not None
    assert auth_session is not None
    return {"id": str(user.id), "email": user.email, "full_name": user.full_name}
