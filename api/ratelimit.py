"""Rate limits on sensitive endpoints, per client IP and per account (the `limits` library).

In-process memory by default; Redis when `TESSERA_REDIS_URL` is set, so limits hold across
API processes.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem, parse, storage
from limits.aio.strategies import MovingWindowRateLimiter

from api.errors import TooManyRequests


class RateLimiter:
    """Moving-window limits keyed by a scope name and an identifier."""

    def __init__(self, redis_url: str | None = None) -> None:
        uri = f"async+{redis_url}" if redis_url else "async+memory://"
        self._storage = storage.storage_from_string(uri)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._items: dict[str, RateLimitItem] = {}

    def _item(self, limit: str) -> RateLimitItem:
        if limit not in self._items:
            self._items[limit] = parse(limit)
        return self._items[limit]

    async def hit(self, scope: str, identifier: str | None, limit: str) -> None:
        """Count one attempt; raise 429 with Retry-After when the limit is used up."""
        if not identifier:
            return
        item = self._item(limit)
        key = hashlib.sha256(identifier.lower().encode()).hexdigest()[:32]
        if not await self._limiter.hit(item, "tessera", scope, key):
            stats = await self._limiter.get_window_stats(item, "tessera", scope, key)
            raise TooManyRequests(retry_after=math.ceil(stats.reset_time - time.time()))
