"""The moment's memory of pages (api/pages/cache.py): what visitors who are not signed in
share, what signed-in visitors share (with their own name, form token and places), what never
is shared, and how long."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from api.pages.cache import SharedPageCache, SignedInPages
from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import published_event, ticket_body
from tests.pages.test_account_and_storefront import form_token, post_form
from tests.pages.test_checkout import signed_in_browser


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute", "page_cache_seconds": 60}


async def test_visitors_not_signed_in_share_the_page_and_the_signed_in_see_it_live(
    api: Api,
) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    path = f"/event/{event['slug']}"
    await api.sync_search_index()
    searched = await api.client.get("/", params={"q": "harbour"})
    assert "Harbour Jazz Night" in searched.text
    first = await api.client.get(path)
    assert first.status_code == 200
    assert "set-cookie" not in first.headers  # no form, no token, nothing of this visitor's
    assert "csrf_token" not in first.text

    renamed = await api.client.put(
        f"/events/{event['id']}", headers=owner.headers, json={"title": "Harbour Jazz Late"}
    )
    assert renamed.status_code == 200, renamed.text
    shared = await api.client.get(path)
    assert shared.text == first.text  # from memory, for up to page_cache_seconds
    assert shared.headers["content-security-policy"] == first.headers["content-security-policy"]
    assert shared.headers["x-request-id"] != first.headers["x-request-id"]
    german = await api.client.get(path, headers={"Accept-Language": "de"})
    assert "Harbour Jazz Late" in german.text  # another language: rendered afresh

    await signed_in_browser(api)
    live = await api.client.get(path)
    assert "Harbour Jazz Late" in live.text
    assert 'name="csrf_token"' in live.text  # the signed-in get the booking form

    # A search is never answered from memory.
    api.client.cookies.clear()
    await api.sync_search_index()
    searched = await api.client.get("/", params={"q": "harbour"})
    assert "Harbour Jazz Late" in searched.text


ENTERED, RELEASE = asyncio.Event(), asyncio.Event()
GONE: set[str] = set()


async def _page(scope: Scope, receive: Receive, send: Send) -> None:
    """A stand-in application: each answer numbered, shareable unless the path says not;
    `/slow` waits for RELEASE, and a path in GONE is a 404."""
    _page.calls += 1  # type: ignore[attr-defined]
    number = _page.calls  # type: ignore[attr-defined]
    if scope["path"] == "/slow":
        ENTERED.set()
        await RELEASE.wait()
    status = 404 if scope["path"] in GONE else 200
    scope.setdefault("state", {})["page_shareable"] = scope["path"] != "/private"
    headers: list[tuple[bytes, bytes]] = [(b"content-type", b"text/html")]
    if scope["path"] == "/cookie":
        headers.append((b"set-cookie", b"x=1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": str(number).encode()})


async def test_pages_are_kept_for_their_seconds_and_the_least_used_go_first() -> None:
    now = [0.0]
    _page.calls = 0  # type: ignore[attr-defined]
    cache = SharedPageCache(_page, seconds=2, entries=2, clock=lambda: now[0])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=cache), base_url="http://t"
    ) as client:

        async def body(path: str, **headers: Any) -> str:
            return (await client.get(path, headers=headers)).text

        assert await body("/a") == "1"
        now[0] = 1.9
        assert await body("/a") == "1"  # kept
        now[0] = 2.1
        assert await body("/a") == "2"  # expired: rendered again
        assert await body("/private") == "3"
        assert await body("/private") == "4"  # not shareable: never kept
        assert await body("/cookie") == "5"
        assert await body("/cookie") == "6"  # sets a cookie: never kept
        assert await body("/a", Cookie="tessera_session=abc") == "7"  # signed in: never
        assert await body("/b") == "8"
        assert await body("/c") == "9"  # two entries at most: /a, the least used, goes
        assert await body("/a") == "10"
        assert await body("/c") == "9"

        # As a page expires, one request renders it again; the others meanwhile get the copy.
        RELEASE.set()
        assert await body("/slow") == "11"
        RELEASE.clear()
        now[0] = 10.0
        ENTERED.clear()
        renewing = asyncio.create_task(body("/slow"))
        await ENTERED.wait()  # the renewing request is inside the application
        assert await body("/slow") == "11"
        RELEASE.set()
        assert await renewing == "12"
        assert await body("/slow") == "12"

        # A page that stops being shareable (its event went away) is not served from memory.
        now[0] = 20.0
        GONE.add("/slow")
        assert await body("/slow") == "13"
        now[0] = 20.5
        assert await body("/slow") == "14"


async def test_signed_in_visitors_share_a_page_with_their_own_name_token_and_places(
    api: Api,
) -> None:
    owner = await api.signed_in(Role.organizer)
    admin = await api.signed_in(Role.admin)
    category = await api.client.post("/categories", headers=admin.headers, json={"name": "Jazz"})
    jazz = category.json()["id"]
    event = await published_event(api, owner, category_id=jazz)
    like = await published_event(api, owner, category_id=jazz, title="Late Jazz Session")
    await api.sync_search_index()
    path = f"/event/{event['slug']}"

    await signed_in_browser(api)  # Ada Lovelace: her page is rendered once for all
    ada = await api.client.get(path)
    assert "Ada Lovelace" in ada.text
    assert form_token(ada) == api.client.cookies["tessera_csrf"]
    assert f'href="/event/{like["slug"]}"' in ada.text
    assert "Ada Lovelace" in (await api.client.get("/")).text
    renamed = await api.client.put(
        f"/events/{event['id']}", headers=owner.headers, json={"title": "Harbour Jazz Late"}
    )
    assert renamed.status_code == 200, renamed.text

    # Grace is served the page kept from Ada's visit, with her name (escaped), her token, and
    # a form key of her own; the booking form on it works.
    api.client.cookies.clear()
    grace = await api.signed_in(full_name="Grace <Hopper>")
    signed = await post_form(
        api, "/account/sign-in", {"email": grace.email, "password": grace.password}
    )
    assert signed.status_code == 303, signed.text
    seen = await api.client.get(path)
    assert "Harbour Jazz Night" in seen.text  # kept, so not rendered again
    home = await api.client.get("/")
    assert "Grace &lt;Hopper&gt;" in home.text
    assert "Ada Lovelace" not in home.text
    assert "Grace &lt;Hopper&gt;" in seen.text
    assert "Ada Lovelace" not in seen.text
    assert "\0" not in seen.text
    assert form_token(seen) == api.client.cookies["tessera_csrf"] != form_token(ada)
    keys = [re.search(r'name="form_key" value="([0-9a-f]{32})"', p.text) for p in (ada, seen)]
    assert keys[0]
    assert keys[1]
    assert keys[0].group(1) != keys[1].group(1)
    [ticket_type] = event["ticket_types"]
    held = await api.client.post(
        f"{path}/book",
        data={
            "csrf_token": form_token(seen),
            "form_key": keys[1].group(1),
            f"qty-{ticket_type['id']}": "1",
        },
    )
    assert held.status_code == 303, held.text

    # Once she has booked an event the page recommends, her page leaves it out (rendered for
    # her alone, so it reads live).
    booked = await api.client.post(
        "/bookings",
        headers=grace.headers,
        json={
            "event_id": like["id"],
            "lines": [{"ticket_type_id": like["ticket_types"][0]["id"], "quantity": 1}],
        },
    )
    assert booked.status_code == 201, booked.text
    own = await api.client.get(path)
    assert f'href="/event/{like["slug"]}"' not in own.text
    assert "Harbour Jazz Late" in own.text
    assert "Grace &lt;Hopper&gt;" in own.text


async def test_a_signed_in_visitor_on_the_waitlist_gets_a_page_of_their_own(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=1)])
    [ticket_type] = event["ticket_types"]
    taken = await api.client.post(
        "/bookings",
        headers=owner.headers,
        json={
            "event_id": event["id"],
            "lines": [{"ticket_type_id": ticket_type["id"], "quantity": 1}],
        },
    )
    assert taken.status_code == 201, taken.text
    path = f"/event/{event['slug']}"
    await signed_in_browser(api)
    page = await api.client.get(path)  # kept for every signed-in visitor
    joined = await api.client.post(
        f"{path}/waitlist",
        data={"csrf_token": form_token(page), "ticket_type_id": ticket_type["id"], "quantity": "1"},
    )
    assert joined.status_code == 303, joined.text
    mine = await api.client.get(path)
    assert "You are on the waitlist for General admission." in mine.text
    assert "Join the waitlist" not in mine.text

    api.client.cookies.clear()
    other = await api.signed_in()
    await post_form(api, "/account/sign-in", {"email": other.email, "password": other.password})
    theirs = await api.client.get(path)
    assert "Join the waitlist" in theirs.text
    assert "You are on the waitlist" not in theirs.text


def test_signed_in_pages_are_kept_for_their_seconds_one_renewing_them() -> None:
    now = [0.0]
    pages = SignedInPages(seconds=2, entries=2, clock=lambda: now[0])
    assert pages.get("a") is None

    def html(key: str) -> str | None:
        kept = pages.get(key)
        return None if kept is None else kept.html

    pages.keep("a", "A1")
    now[0] = 1.9
    assert html("a") == "A1"
    now[0] = 2.1
    assert html("a") is None  # expired: this caller renders it again...
    assert html("a") == "A1"  # ...while the others are served the copy it replaces
    pages.keep("a", "A2")
    assert html("a") == "A2"
    now[0] = 10.0
    assert pages.get("a") is None  # a renewal that never comes back...
    now[0] = 12.5
    assert pages.get("a") is None  # ...lets another caller try after the seconds
    pages.keep("b", "B")
    pages.keep("c", "C")
    assert pages.get("a") is None  # two entries at most: the least used went
    assert SignedInPages(seconds=0).keep("a", "A") is None
