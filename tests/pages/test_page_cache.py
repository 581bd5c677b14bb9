"""The moment's memory for pages every visitor who is not signed in sees alike
(api/pages/cache.py): what is shared, what never is, and how long."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from api.pages.cache import SharedPageCache
from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import published_event
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
