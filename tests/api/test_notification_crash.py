"""A worker process killed in the middle of sending: restarted, it sends what was left and
nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from api.db import utcnow
from api.notifications import worker
from api.notifications.models import Notification, NotificationAttempt, NotificationStatus
from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_bookings import _book
from tests.api.test_events import published_event, ticket_body
from tests.notifications.servers import Mailbox, smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def settings_overrides(smtp: tuple[Mailbox, int]) -> dict[str, object]:
    return {
        "rate_limit_login_ip": "1000/minute",
        "mail_backend": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp[1],
        "smtp_security": "none",
        "notification_lease_seconds": 60,
    }


async def test_a_killed_worker_resumes_without_sending_anything_twice(
    api: Api, smtp: tuple[Mailbox, int], database_url: str, tmp_path: Path
) -> None:
    mailbox, port = smtp
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=10)])
    buyers = [await api.signed_in() for _ in range(3)]
    for buyer in buyers:
        await _book(api, buyer, event, (0, 1))
    # The second email's DATA is held: the worker is killed while the server has it.
    gate = threading.Event()
    mailbox.hold, mailbox.hold_at = gate, 1
    env = os.environ | {
        "TESSERA_DATABASE_URL": database_url,
        "TESSERA_SECRET_KEY": api.settings.secret_key.get_secret_value(),
        "TESSERA_MAIL_BACKEND": "smtp",
        "TESSERA_SMTP_HOST": "127.0.0.1",
        "TESSERA_SMTP_PORT": str(port),
        "TESSERA_SMTP_SECURITY": "none",
        "TESSERA_NOTIFICATION_LEASE_SECONDS": "60",
        "TESSERA_MAIL_DIR": str(tmp_path / "mail"),
        "TESSERA_SEARCH_DIR": str(tmp_path / "search"),
        "TESSERA_LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(  # noqa: ASYNC220 - a real process, to be killed
        [sys.executable, "-c", "from tessera.cli import app; app()", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        reached = mailbox.holding.wait(timeout=120)
        assert reached, (tmp_path / "worker.log").read_text()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        log.close()
        gate.set()
    assert len(mailbox.messages) == 1  # the first went out before the kill
    async with api.app.state.sessionmaker() as session:
        emails = list(
            await session.scalars(select(Notification).where(Notification.channel == "email"))
        )
    assert sorted(n.status.value for n in emails).count("sent") == 1
    assert any(n.status == NotificationStatus.sending for n in emails)
    # A restarted worker leaves the claims alone until their lease runs out, then sends the
    # rest: each buyer has exactly one email.
    state = api.app.state
    early = await worker.run_once(state.sessionmaker, state.settings, state.notification_providers)
    assert early.sent == 0
    late = await worker.run_once(
        state.sessionmaker,
        state.settings,
        state.notification_providers,
        now=utcnow() + timedelta(seconds=61),
    )
    assert late.sent >= 2  # the two emails left (and inbox messages the kill left claimed)
    assert late.dead == 0
    assert sorted(m["To"] for m in mailbox.messages) == sorted(b.email for b in buyers)
    async with api.app.state.sessionmaker() as session:
        outcomes = list(
            await session.scalars(
                select(NotificationAttempt.outcome)
                .join(Notification, Notification.id == NotificationAttempt.notification_id)
                .where(Notification.channel == "email")
            )
        )
    assert sorted(o or "" for o in outcomes).count("sent") == 3
    assert "interrupted" in outcomes
    again = await worker.run_once(
        state.sessionmaker,
        state.settings,
        state.notification_providers,
        now=utcnow() + timedelta(hours=1),
    )
    assert again.sent == 0
    assert len(mailbox.messages) == 3
