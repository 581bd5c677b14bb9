"""Notification templates that are too expensive to render: refused with 422 naming the field
when previewed, saved or changed; and at send time the message still goes, in the bundled
wording, while the worker carries on with the others."""

from __future__ import annotations

import gc
import time
import uuid
from typing import Any

import httpx
import pytest

from api.notifications import costs
from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_bookings import _book
from tests.api.test_events import published_event, ticket_body


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


_DOUBLING = (
    "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}{{ ns.s|length }}"
)
_SHARED_LISTS = (
    "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = [ns.l, ns.l] %}"
    "{% endfor %}{{ ns.l }}"
)
_SORTING = (
    "{% set many = range(1000)|list * 50 %}"
    "{% for i in range(1000) %}{{ (many|sort)[0] }}{% endfor %}"
)

# (the field at fault, its source, what the problem says)
BLOWUPS = [
    pytest.param("text_body", "{% for i in range(10**9) %}{% endfor %}", "range()", id="range"),
    pytest.param(
        "html_body",
        "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}",
        "steps",
        id="nested-loops",
    ),
    pytest.param(
        "text_body", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "deep", id="recursion"
    ),
    pytest.param("subject", "{{ 'x' * 10**9 }}", "characters", id="string-multiplication"),
    pytest.param("text_body", _DOUBLING, "characters", id="doubling-in-a-loop"),
    pytest.param("text_body", _SHARED_LISTS, "characters", id="shared-lists"),
    pytest.param("subject", "{{ 9 ** 999999 }}", "bits", id="integer-power"),
    pytest.param("text_body", "{{ '%0999999999d' % 1 }}", "width", id="format-width"),
    pytest.param(
        "html_body",
        "{% for i in range(1000) %}{{ 'x' * 5000 }}{% endfor %}",
        "more than",
        id="output-size",
    ),
    pytest.param("text_body", _SORTING, "processor time", id="processor-time"),
]


def _refused(response: httpx.Response, field: str, says: str) -> None:
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "notification.template_invalid"
    assert problem["field"] == field
    assert says in problem["detail"]


def _draft(**parts: str) -> dict[str, Any]:
    return {
        "trigger": "booking_confirmed",
        "channel": "email",
        "locale": "en",
        "subject": "Your tickets for {{ event_title }}",
        "text_body": "Hello {{ name }}, see you on {{ starts_at | when(timezone) }}.",
    } | parts


@pytest.mark.parametrize(("field", "source", "says"), BLOWUPS)
async def test_a_template_too_expensive_to_render_is_refused_naming_the_field(
    api: Api, field: str, source: str, says: str
) -> None:
    admin = await api.signed_in(Role.admin)
    preview = await api.client.post(
        "/admin/notification-templates/preview",
        headers=admin.headers,
        json=_draft(**{field: source}),
    )
    _refused(preview, field, says)
    saved = await api.client.post(
        "/admin/notification-templates", headers=admin.headers, json=_draft(**{field: source})
    )
    _refused(saved, field, says)
    # A template that renders cannot be changed into one that is too expensive either.
    fine = await api.client.post(
        "/admin/notification-templates", headers=admin.headers, json=_draft()
    )
    assert fine.status_code == 201, fine.text
    changed = await api.client.put(
        f"/admin/notification-templates/{fine.json()['id']}",
        headers=admin.headers,
        json={field: source},
    )
    _refused(changed, field, says)
    kept = await api.client.get(
        f"/admin/notification-templates/{fine.json()['id']}", headers=admin.headers
    )
    assert kept.json()["version"] == 1
    assert kept.json()[field] == _draft().get(field)


def test_time_the_garbage_collector_takes_is_not_charged_to_the_template() -> None:
    with costs.budget():
        started = time.thread_time()
        while time.thread_time() - started < 1.5 * costs.CPU_SECONDS:
            gc.collect()  # the whole process's heap, as a collection in the middle of a render
        costs.check_clock()  # no TooExpensive


async def test_a_template_within_the_bounds_renders_as_before(api: Api) -> None:
    admin = await api.signed_in(Role.admin)
    source = (
        "{% macro row(label, value) %}<tr><td>{{ label }}</td><td>{{ value }}</td></tr>"
        "{% endmacro %}<table>{% for i in range(3) %}{{ row('Seat ' ~ loop.index, seats) }}"
        "{% endfor %}</table><p>{{ '%s & %d'|format(name, seats) }} {{ [1, 2]|sum }}</p>"
    )
    preview = await api.client.post(
        "/admin/notification-templates/preview",
        headers=admin.headers,
        json=_draft(html_body=source),
    )
    assert preview.status_code == 200, preview.text
    html = preview.json()["html"]
    assert "<tr><td>Seat 3</td><td>2</td></tr>" in html
    assert "Ada Lovelace &amp; 2 3" in html


async def _confirmed(api: Api, owner: TestUser, seats: int) -> tuple[TestUser, str]:
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=20)])
    buyer = await api.signed_in()
    booked = await _book(api, buyer, event, (0, seats))
    assert booked.status_code == 201, booked.text
    return buyer, booked.json()["id"]


async def test_at_send_time_a_template_past_its_bounds_falls_back_to_the_bundled_wording(
    api: Api,
) -> None:
    admin = await api.signed_in(Role.admin)
    # Fine with the sample booking (2 seats), past range()'s bound for a booking of 5.
    created = await api.client.post(
        "/admin/notification-templates",
        headers=admin.headers,
        json=_draft(
            subject="Admin wording: {{ event_title }}",
            text_body="{% for i in range(seats * 400) %}.{% endfor %}",
        ),
    )
    assert created.status_code == 201, created.text
    owner = await api.signed_in(Role.organizer)
    big_buyer, big_booking = await _confirmed(api, owner, seats=5)
    small_buyer, _ = await _confirmed(api, owner, seats=1)

    result = (
        await api.deliver_notifications()
    )  # the worker survives and goes on with the other messages

    assert result.dead == 0
    [fallback] = [m for m in api.mails(big_buyer.email) if "tickets" in m["Subject"].lower()]
    assert fallback["Subject"].startswith("Your tickets for ")  # the bundled wording
    assert any(p.get_filename().startswith("tickets-") for p in fallback.iter_attachments())
    [admin_worded] = api.mails(small_buyer.email)
    assert admin_worded["Subject"].startswith("Admin wording: ")
    body = admin_worded.get_body(preferencelist=("plain",))
    assert body is not None
    assert "." * 400 in body.get_content()
    # The outcome is recorded: sent, and why not in the admin's wording.
    listed = await api.client.get(
        "/admin/notifications",
        headers=admin.headers,
        params={"user_id": str(big_buyer.id), "channel": "email"},
    )
    [notification] = listed.json()["items"]
    assert notification["status"] in ("sent", "delivered")
    assert notification["template_id"] == created.json()["id"]
    assert "range()" in notification["error"]
    detail = await api.client.get(
        f"/admin/notifications/{notification['id']}", headers=admin.headers
    )
    [attempt] = detail.json()["delivery_attempts"]
    assert attempt["outcome"] == "sent"
    assert "does not render (text_body" in attempt["error"]
    assert "bundled wording" in attempt["error"]
    assert (
        uuid.UUID(big_booking).hex[:8].upper()
        in fallback.get_body(preferencelist=("plain",)).get_content()
    )
