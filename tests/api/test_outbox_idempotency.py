"""The outbox contract and Idempotency-Key, including races."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.notifications import service as notifications
from api.notifications import worker
from api.notifications.models import Notification
from api.outbox import OutboxEvent
from api.users import service as users
from api.users.models import User
from tests.api.factories import DEFAULT_PASSWORD, Api


def _body(email: str) -> dict[str, str]:
    return {"email": email, "password": DEFAULT_PASSWORD, "full_name": "Ida Idempotent"}


async def _count(api: Api, model: type, *where: object) -> int:
    async with api.app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_outbox_row_has_the_documented_shape(api: Api, backend: str) -> None:
    await api.client.post("/auth/register", json=_body("shape@example.com"))
    [row] = await api.outbox("user.registered")
    assert isinstance(row.event_id, uuid.UUID)
    assert (row.entity, row.version) == ("user", 1)
    assert row.payload["id"] == row.entity_id
    assert row.payload["email"] == "shape@example.com"
    assert row.occurred_at.tzinfo is not None
    assert row.request_id
    assert (row.txid is not None) == (backend == "postgresql")


async def test_versions_increase_with_each_change(api: Api) -> None:
    user = await api.signed_in()
    for name in ("A", "B"):
        await api.client.put("/users/profile", headers=user.headers, json={"display_name": name})
    versions = [r.version for r in await api.outbox() if r.entity_id == str(user.id)]
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)


async def test_a_refused_request_writes_no_outbox_row(api: Api) -> None:
    user = await api.signed_in()
    before = await _count(api, OutboxEvent)
    response = await api.client.post(
        "/auth/change-password",
        headers=user.headers,
        json={"current_password": user.password, "new_password": "password1234"},
    )
    assert response.status_code == 422
    assert await _count(api, OutboxEvent) == before


async def test_repeat_with_same_key_returns_first_response(api: Api) -> None:
    headers = {"Idempotency-Key": "key-0000-0001"}
    first = await api.client.post("/auth/register", json=_body("idem@example.com"), headers=headers)
    second = await api.client.post(
        "/auth/register", json=_body("idem@example.com"), headers=headers
    )
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(await api.outbox("user.registered")) == 1
    assert len(api.mails("idem@example.com")) == 1


async def test_same_key_with_another_body_is_422(api: Api) -> None:
    headers = {"Idempotency-Key": "key-0000-0002"}
    await api.client.post("/auth/register", json=_body("one@example.com"), headers=headers)
    other = await api.client.post("/auth/register", json=_body("two@example.com"), headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency.key_reused"
    assert await _count(api, User, User.email == "two@example.com") == 0


async def test_concurrent_requests_with_one_key_do_the_work_once(api: Api) -> None:
    headers = {"Idempotency-Key": "key-0000-0003"}
    responses = await asyncio.gather(
        *(
            api.client.post("/auth/register", json=_body("race@example.com"), headers=headers)
            for _ in range(4)
        )
    )
    assert {r.status_code for r in responses} == {202}
    assert len({r.text for r in responses}) == 1
    assert await _count(api, User, User.email == "race@example.com") == 1
    assert len(await api.outbox("user.registered")) == 1


async def test_concurrent_sign_ups_with_one_email_make_one_account(api: Api) -> None:
    responses = await asyncio.gather(
        *(api.client.post("/auth/register", json=_body("twice@example.com")) for _ in range(4))
    )
    assert {r.status_code for r in responses} == {202}
    assert await _count(api, User, User.email == "twice@example.com") == 1


async def test_too_short_key_is_refused(api: Api) -> None:
    response = await api.client.post(
        "/auth/register", json=_body("k@example.com"), headers={"Idempotency-Key": "x"}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "header.Idempotency-Key"


async def test_concurrent_deliverers_send_each_message_once(api: Api) -> None:
    async with api.app.state.sessionmaker() as session:
        user = await users.get_by_email(session, email=(await api.signed_in()).email)
        assert user is not None
        for n in range(12):
            await notifications.request(
                session,
                api.settings,
                template="account_exists",
                recipient=f"m{n}@example.com",
                user_id=user.id,
                context={"name": "Ada", "base_url": "http://tessera.test"},
            )
        await session.commit()
    state = api.app.state
    rounds = await asyncio.gather(
        *(
            worker.run_once(state.sessionmaker, state.settings, state.notification_providers)
            for _ in range(4)
        )
    )
    sent = sum(r.sent for r in rounds)
    assert sent >= 12  # every message once; the verification mail may be among them
    delivered = await _count(api, Notification)
    requested = await _count(api, OutboxEvent, OutboxEvent.event_type == notifications.EVENT_TYPE)
    assert delivered == requested == sent
    assert len(api.mails()) == requested


async def _consume(api: Api, handled: list[str]) -> None:
    async with api.app.state.sessionmaker() as session:
        work = await outbox.read_after(session, consumer="test", event_types=("test.ping",))
        for row in work.rows:
            handled.append(row.entity_id)
            await work.done(row)
        await work.close()
        await session.commit()


async def _ping(session: AsyncSession, name: str) -> None:
    await outbox.emit(session, "test.ping", entity="test", entity_id=name, payload={})
    await session.flush()


async def test_a_consumer_misses_no_row_that_commits_late(api: Api, backend: str) -> None:
    """A transaction that wrote its row first but commits last: its row must still be read,
    once, although a later row was handled before it committed."""
    handled: list[str] = []
    sessions = api.app.state.sessionmaker
    if backend == "sqlite":
        # One writer at a time: rows commit in id order, so the id cursor is exact.
        async with sessions() as session:
            await _ping(session, "early")
            await session.commit()
        await _consume(api, handled)
        async with sessions() as session:
            await _ping(session, "late")
            await session.commit()
        await _consume(api, handled)
        await _consume(api, handled)
        assert handled == ["early", "late"]
        return
    async with sessions() as slow:
        await _ping(slow, "slow")  # holds a lower id and an older txid, not yet committed
        async with sessions() as quick:
            await _ping(quick, "quick")
            await quick.commit()
        await _consume(api, handled)
        assert handled == ["quick"]  # handled at once, but the cursor stays behind "slow"
        await slow.commit()
    await _consume(api, handled)
    await _consume(api, handled)
    assert handled == ["quick", "slow"]
