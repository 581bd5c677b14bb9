"""A moment's memory for pages that every visitor who is not signed in sees alike.

The home page (without a search) and an event's page are what an on-sale crowd reloads. When
one of them is rendered for a visitor who is not signed in, carries no form token and sets no
cookie (`render(..., shareable=True)` decides), this process keeps the response for
`page_cache_seconds` and serves it to the next such visitors with the same address and
languages. Signed-in visitors, searches and every other page are never served from here.
Signed-in visitors share the same pages through `SignedInPages`, inside the route, after their
session is checked. Seats left may then read up to those seconds old; the booking itself always
counts live.

It sits inside the request-context middleware (so hits are counted, logged and get their own
request id) and inside the edge (so every hit carries the security headers).
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SIGNED_IN = b"tessera_session="
Key = tuple[str, bytes, bytes]


@dataclass(frozen=True)
class Kept:
    start: Message
    body: bytes
    expires: float


class SharedPageCache:
    """An in-process LRU of shareable pages, each kept `seconds`."""

    def __init__(
        self,
        app: ASGIApp,
        seconds: float,
        entries: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.seconds = seconds
        self.entries = entries
        self.clock = clock
        self._kept: OrderedDict[Key, Kept] = OrderedDict()
        self._renewing: set[Key] = set()

    def _key(self, scope: Scope) -> Key | None:
        if scope["type"] != "http" or scope["method"] != "GET" or self.seconds <= 0:
            return None
        headers = dict(scope["headers"])
        if SIGNED_IN in headers.get(b"cookie", b""):
            return None
        return scope["path"], scope["query_string"], headers.get(b"accept-language", b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self._key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        kept = self._kept.get(key)
        # Fresh, or being rendered again by another request (the crowd that arrives as a page
        # expires is served the copy it replaces, rather than rendering it 32 times at once).
        if kept is not None and (kept.expires > self.clock() or key in self._renewing):
            self._kept.move_to_end(key)
            await send(dict(kept.start, headers=list(kept.start["headers"])))
            await send({"type": "http.response.body", "body": kept.body})
            return
        if kept is not None:
            self._renewing.add(key)
        try:
            await self._render(key, scope, receive, send)
        finally:
            self._renewing.discard(key)

    async def _render(self, key: Key, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":  # a copy: outer layers add headers
                start = dict(message, headers=list(message.get("headers", [])))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        state = scope.setdefault("state", {})  # shared with every copy of the scope below
        await self.app(scope, receive, keep)
        shareable = (
            start is not None
            and state.get("page_shareable", False)
            and start["status"] == 200
            and not any(name.lower() == b"set-cookie" for name, _ in start["headers"])
        )
        if not shareable:
            self._kept.pop(key, None)  # an older copy no longer stands (the event went away)
            return
        assert start is not None
        self._kept[key] = Kept(start, b"".join(chunks), self.clock() + self.seconds)
        self._kept.move_to_end(key)
        while len(self._kept) > self.entries:
            self._kept.popitem(last=False)


@dataclass(frozen=True)
class Holed:
    """A page rendered once for every signed-in visitor, with holes for who they are
    (`api.pages.rendering.render_with_holes`), and what decides whether it fits one of them."""

    html: str
    expires: float
    event_id: uuid.UUID | None = None  # the event whose waitlist places make a page personal
    shows: frozenset[uuid.UUID] = frozenset()  # events it recommends (a viewer's own are left out)


class SignedInPages:
    """A moment's memory of the home page and event pages as signed-in visitors see them.

    Everything but the visitor's name, form token and form key is the same for all of them
    (those are holes, filled per request), unless the visitor is on the event's waitlist or has
    booked an event the page recommends: the page then renders for them alone. Each page is kept
    `seconds` (`page_cache_seconds`); as it expires, one request renders it again while the
    others are served the copy it replaces.
    """

    def __init__(
        self, seconds: float, entries: int = 512, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.entries = entries
        self.clock = clock
        self._kept: OrderedDict[object, Holed] = OrderedDict()
        self._renewing: dict[object, float] = {}

    def get(self, key: object) -> Holed | None:
        """The kept page, or None when this caller should render it (and `keep` it)."""
        if self.seconds <= 0:
            return None
        kept = self._kept.get(key)
        now = self.clock()
        if kept is None:
            return None
        claimed = self._renewing.get(key)
        if kept.expires > now or (claimed is not None and now - claimed < self.seconds):
            self._kept.move_to_end(key)
            return kept
        self._renewing[key] = now  # a render that fails lets the next caller try after seconds
        return None

    def keep(
        self,
        key: object,
        html: str,
        *,
        event_id: uuid.UUID | None = None,
        shows: frozenset[uuid.UUID] = frozenset(),
    ) -> Holed | None:
        """Keep a page (None when pages are not kept: `page_cache_seconds` is 0)."""
        self._renewing.pop(key, None)
        if self.seconds <= 0:
            return None
        kept = self._kept[key] = Holed(html, self.clock() + self.seconds, event_id, shows)
        self._kept.move_to_end(key)
        while len(self._kept) > self.entries:
            gone, _ = self._kept.popitem(last=False)
            self._renewing.pop(gone, None)
        return kept
