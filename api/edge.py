"""The edge of the app: who the client really is behind a proxy, and the security headers
every response carries (error pages and static media included)."""

from __future__ import annotations

from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import VISITOR_COOKIE

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

# Same-origin requests keep the full referrer (CSRF checks of our own forms may read it);
# other sites learn only our origin, never a path or query that may hold a token.
REFERRER_POLICY = "strict-origin-when-cross-origin"
FRAME_ANCESTORS = "frame-ancestors 'none'"
# JSON is never rendered as a page, so it may load nothing at all. HTML (the API docs load
# Swagger UI and ReDoc from a CDN, the web pages their own assets) only refuses framing.
JSON_CSP = f"default-src 'none'; {FRAME_ANCESTORS}"
# A year, for this host only: whether the operator's other subdomains speak https is theirs
# to say.
HSTS = "max-age=31536000"
# Responses under /auth carry tokens (sign-in, refresh, social login) whoever asks.
TOKEN_PATHS = ("/auth/",)


def parse_address(value: str) -> IPAddress | None:
    """An address as proxies write it (`1.2.3.4`, `1.2.3.4:80`, `[2001:db8::1]:443`)."""
    value = value.strip()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ip_address(value)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class EdgeMiddleware:
    """Resolves the client and scheme through trusted proxies, then adds security headers.

    Only a direct peer inside `trusted_proxies` is believed: the client is the right-most
    X-Forwarded-For address that is not itself a trusted proxy, the scheme its
    X-Forwarded-Proto. Anyone else's forwarding headers are ignored.
    """

    def __init__(self, app: ASGIApp, trusted_proxies: Iterable[IPNetwork] = ()) -> None:
        self.app = app
        self.trusted_proxies = tuple(trusted_proxies)

    def _trusted(self, address: IPAddress) -> bool:
        return any(address in network for network in self.trusted_proxies)

    def _resolve(self, scope: Scope) -> Scope:
        client = scope.get("client")
        peer = parse_address(client[0]) if client else None
        if peer is None or not self._trusted(peer):
            return scope
        forwarded_for: list[str] = []
        proto: str | None = None
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                forwarded_for += value.decode("latin-1").split(",")
            elif name == b"x-forwarded-proto":
                proto = value.decode("latin-1").split(",")[-1].strip().lower()
        real = peer
        for hop in reversed([hop for hop in forwarded_for if hop.strip()]):
            address = parse_address(hop)
            if address is None:
                break  # not an address: keep the nearest proxy's word
            real = address
            if not self._trusted(address):
                break
        resolved = dict(scope)
        resolved["client"] = (str(real), 0)
        if proto in ("http", "https") and scope["type"] == "http":
            resolved["scheme"] = proto
        return resolved

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.trusted_proxies:
            scope = self._resolve(scope)
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        private = _authenticated(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add_security_headers(MutableHeaders(scope=message), https=https, private=private)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _authenticated(scope: Scope) -> bool:
    """The request carries credentials (a bearer token, or a cookie other than the anonymous
    visitor id), or its answer carries them."""
    if scope["path"].startswith(TOKEN_PATHS):
        return True
    for name, value in scope["headers"]:
        if name == b"authorization":
            return True
        if name == b"cookie":
            cookies = SimpleCookie()
            try:
                cookies.load(value.decode("latin-1"))
            except CookieError:
                return True  # unreadable: assume the worst
            if set(cookies) - {VISITOR_COOKIE}:
                return True
    return False


def _add_security_headers(headers: MutableHeaders, *, https: bool, private: bool) -> None:
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    policy = headers.get("Content-Security-Policy")
    if policy is None:
        media_type = headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        json = media_type == "application/json" or media_type.endswith("+json")
        headers["Content-Security-Policy"] = JSON_CSP if json else FRAME_ANCESTORS
    elif "frame-ancestors" not in policy:
        headers["Content-Security-Policy"] = f"{policy.rstrip('; ')}; {FRAME_ANCESTORS}"
    if https:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if private:
        # A route may declare a response the same for everyone (`public`); anything else
        # answered to a signed-in caller stays out of every cache, the browser's included.
        directives = {
            part.strip().split("=", 1)[0].lower()
            for part in headers.get("Cache-Control", "").split(",")
        }
        if not directives & {"public", "no-store"}:
            headers["Cache-Control"] = "no-store"


def install_edge(app: FastAPI, trusted_proxies: Iterable[IPNetwork] = ()) -> None:
    """Wrap the whole middleware stack, so the 500 page Starlette renders outermost gets
    the headers and every layer sees the real client."""
    build = app.build_middleware_stack
    proxies = tuple(trusted_proxies)

    def build_with_edge() -> ASGIApp:
        return EdgeMiddleware(build(), trusted_proxies=proxies)

    app.build_middleware_stack = build_with_edge  # type: ignore[method-assign]
