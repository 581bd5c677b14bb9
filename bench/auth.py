"""Authenticated reads and password sign-ins, against a bare-FastAPI floor.

- profile: GET /users/profile (JWT check, user and session lookups, middleware, metrics)
  against bench.baseline's GET /profile doing the same two reads.
- login: POST /auth/login at the production argon2id cost, against the bound that
  argon2 alone sets (workers / verify time).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from sqlalchemy import func, select

from api.auth.models import AuthSession
from api.auth.passwords import hasher
from api.config import Settings
from api.db import make_engine, make_sessionmaker
from api.migrate import upgrade
from bench.harness import scratch_database, served, summarise, wrk_load
from demo.seed import DEMO_PASSWORD, seed_users

USERS = 200


async def _prepare(url: str) -> None:
    settings = Settings(database_url=url)
    engine = make_engine(url)
    await seed_users(make_sessionmaker(engine), settings, count=USERS)
    await engine.dispose()


async def _count_sessions(url: str) -> int:
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session:
        count = await session.scalar(select(func.count()).select_from(AuthSession))
    await engine.dispose()
    return int(count or 0)


def argon2_verify_ms() -> float:
    h = hasher(Settings())
    stored = h.hash(DEMO_PASSWORD)
    started = time.perf_counter()
    for _ in range(20):
        h.verify(stored, DEMO_PASSWORD)
    return (time.perf_counter() - started) / 20 * 1000


def run(*, db: str, runs: int, seconds: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url, cleanup = scratch_database(db, workdir)
        try:
            upgrade(url)
            asyncio.run(_prepare(url))
            env = {
                "TESSERA_DATABASE_URL": url,
                "TESSERA_LOG_LEVEL": "WARNING",
                "TESSERA_MAIL_DIR": str(workdir / "mail"),
                "TESSERA_RATE_LIMIT_LOGIN_IP": "1000000/minute",
                "TESSERA_RATE_LIMIT_LOGIN_ACCOUNT": "1000000/minute",
            }
            with served("api.main:app", env) as ours, served("bench.baseline:app", env) as floor:
                login = httpx.post(
                    f"{ours}/auth/login",
                    json={"email": "attendee@tessera.example.com", "password": DEMO_PASSWORD},
                )
                token = login.json()["access_token"]
                claims = jwt.decode(token, options={"verify_signature": False})
                headers = {"Authorization": f"Bearer {token}"}
                params = {"user_id": claims["sub"], "session_id": claims["sid"]}
                sessions_before = asyncio.run(_count_sessions(url))

                login_body = json.dumps(
                    {"email": "attendee@tessera.example.com", "password": DEMO_PASSWORD}
                )
                profile, baseline, logins = [], [], []
                for _ in range(runs):
                    baseline.append(
                        wrk_load(
                            floor,
                            f"/profile?{urlencode(params)}",
                            seconds=seconds,
                            connections=concurrency,
                        )
                    )
                    profile.append(
                        wrk_load(
                            ours,
                            "/users/profile",
                            headers=headers,
                            seconds=seconds,
                            connections=concurrency,
                        )
                    )
                    logins.append(
                        wrk_load(
                            ours,
                            "/auth/login",
                            method="POST",
                            body=login_body,
                            headers={"Content-Type": "application/json"},
                            seconds=seconds,
                            connections=concurrency,
                        )
                    )
                sessions_after = asyncio.run(_count_sessions(url))
        finally:
            if cleanup is not None:
                asyncio.run(cleanup())

    summaries = [
        summarise("baseline GET /profile", baseline),
        summarise("GET /users/profile", profile),
        summarise("POST /auth/login", logins),
    ]
    ok_logins = sum(r.statuses.get(200, 0) for r in logins)
    verify_ms = argon2_verify_ms()
    return {
        "bench": "auth",
        "db": db,
        "runs": runs,
        "concurrency": concurrency,
        "results": [s.as_dict() for s in summaries],
        "profile_vs_baseline": round(
            summaries[1].as_dict()["req_per_s_median"] / summaries[0].as_dict()["req_per_s_median"],
            2,
        ),
        "argon2_verify_ms": round(verify_ms, 1),
        "login_bound_req_per_s": round(2 * 1000 / verify_ms, 1),
        # wrk stops counting at the deadline while up to `concurrency` logins per run are still
        # in flight; the server finishes them, so they add sessions wrk never saw answered.
        "correct": ok_logins <= sessions_after - sessions_before <= ok_logins + runs * concurrency,
        "sessions_created": sessions_after - sessions_before,
        "logins_ok": ok_logins,
    }
