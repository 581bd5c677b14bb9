"""Recommendations: what the pipelines computed from the marts (events booked together,
each user's category affinity, popularity), read from the published snapshot, then checked
against the OLTP database: never an event that is past, sold out, cancelled, or already
booked by the person asking.

Candidates come in three groups, in this order of trust: booked together with what the user
booked (or with this event), the user's favourite categories (or this event's category) by
popularity, and what is popular now. Before the first build, or for a newcomer, popularity
from the index does the work alone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import service as bookings_service
from api.db import utcnow
from api.events import service as events_service
from api.search import service as search_service
from api.search.schemas import RecommendationReason
from contracts.snapshot import Build
from search.backend import SearchBackend, SearchFilters, SearchQuery, SortOrder

if TYPE_CHECKING:
    from api.events import Event

CANDIDATES_PER_GROUP = 3  # fetch this many times the limit from each group, before filtering


@dataclass(frozen=True)
class Recommended:
    event: Event
    reason: RecommendationReason
    score: float


@lru_cache(maxsize=32)
def _read(build: Build, name: str) -> pl.DataFrame:
    """A mart of one published build (builds never change once published)."""
    return build.polars(name)


def mart(snapshot_dir: Path, name: str) -> pl.DataFrame | None:
    """A mart of the published snapshot, or None before it exists."""
    build = Build.current(snapshot_dir)
    if build is None or not build.has(name):
        return None
    return _read(build, name)


def _booked_together(snapshot_dir: Path, event_ids: list[str], limit: int) -> dict[str, float]:
    pairs = mart(snapshot_dir, "event_co_bookings")
    if pairs is None or not event_ids:
        return {}
    found = (
        pairs.filter(pl.col("event_id").is_in(event_ids))
        .group_by("similar_event_id")
        .agg(pl.col("score").sum())
        .sort("score", descending=True)
        .head(limit)
    )
    return dict(zip(found["similar_event_id"], found["score"], strict=True))


def _affinity(snapshot_dir: Path, user_id: uuid.UUID) -> dict[str, float]:
    table = mart(snapshot_dir, "user_category_affinity")
    if table is None:
        return {}
    found = table.filter(pl.col("user_id") == str(user_id)).sort("score", descending=True)
    return dict(zip(found["category_id"], found["score"], strict=True))


async def _from_index(
    backend: SearchBackend,
    *,
    categories: tuple[str, ...] = (),
    exclude: tuple[str, ...],
    limit: int,
) -> list[str]:
    """Upcoming events by popularity, optionally of some categories."""
    query = SearchQuery(
        filters=SearchFilters(categories=categories, starts_after=utcnow(), exclude_ids=exclude),
        sort=SortOrder.POPULARITY,
        page_size=limit,
        facets=False,
        highlight=False,
    )
    result = await search_service.call_backend(lambda: backend.search(query))
    return [hit.document.id for hit in result.hits]


async def _finish(
    session: AsyncSession,
    groups: list[tuple[RecommendationReason, dict[str, float]]],
    *,
    exclude: set[str],
    limit: int,
) -> list[Recommended]:
    """Merge the groups in order, drop what may not be shown, keep `limit`."""
    ordered: dict[str, tuple[RecommendationReason, float]] = {}
    for reason, scores in groups:
        for event_id, score in sorted(scores.items(), key=lambda item: -item[1]):
            if event_id not in exclude and event_id not in ordered:
                ordered[event_id] = (reason, float(score))
    ids = [uuid.UUID(event_id) for event_id in ordered]
    now = utcnow()
    shown: list[Event] = []
    # The candidates in order, a few more than wanted at a time: most pass, so loading every
    # candidate (and its ticket types) would be most of the cost.
    step = max(limit * 2, 4)
    for start in range(0, len(ids), step):
        events = await events_service.listed_in_order(session, event_ids=ids[start : start + step])
        upcoming = [e for e in events if e.starts_at.replace(tzinfo=now.tzinfo) > now]
        left = await events_service.seats_left(session, event_ids=[e.id for e in upcoming])
        shown += [e for e in upcoming if left.get(e.id, 0) > 0]
        if len(shown) >= limit:
            break
    return [
        Recommended(event=e, reason=ordered[str(e.id)][0], score=ordered[str(e.id)][1])
        for e in shown[:limit]
    ]


def _ranked(ids: list[str]) -> dict[str, float]:
    """Scores that keep the index's order (1 for the first, falling)."""
    return {event_id: 1 / (rank + 1) for rank, event_id in enumerate(ids)}


async def similar(
    session: AsyncSession,
    backend: SearchBackend,
    snapshot_dir: Path,
    *,
    event: Event,
    viewer_id: uuid.UUID | None,
    limit: int,
) -> list[Recommended]:
    """Events like this one: booked by the same people, then of its category, then popular."""
    wanted = limit * CANDIDATES_PER_GROUP
    exclude = {str(event.id)}
    if viewer_id is not None:
        exclude |= {
            str(i) for i in await bookings_service.booked_event_ids(session, user_id=viewer_id)
        }
    together = _booked_together(snapshot_dir, [str(event.id)], wanted)
    names = await events_service.category_names(
        session, category_ids=[event.category_id] if event.category_id else []
    )
    same_category = (
        await _from_index(backend, categories=tuple(names), exclude=tuple(exclude), limit=wanted)
        if names
        else []
    )
    popular = await _from_index(backend, exclude=tuple(exclude), limit=wanted)
    return await _finish(
        session,
        [
            (RecommendationReason.booked_together, together),
            (RecommendationReason.category, _ranked(same_category)),
            (RecommendationReason.popular, _ranked(popular)),
        ],
        exclude=exclude,
        limit=limit,
    )


async def for_user(
    session: AsyncSession,
    backend: SearchBackend,
    snapshot_dir: Path,
    *,
    user_id: uuid.UUID,
    limit: int,
) -> list[Recommended]:
    """What this user may like: booked together with their bookings, their categories by
    popularity, then what is popular (all a newcomer gets)."""
    wanted = limit * CANDIDATES_PER_GROUP
    booked = await bookings_service.booked_event_ids(session, user_id=user_id)
    exclude = {str(i) for i in booked}
    together = _booked_together(snapshot_dir, [str(i) for i in booked], wanted)
    affinity = _affinity(snapshot_dir, user_id)
    if not affinity and booked:  # before the marts know them: the categories they booked
        mine = await events_service.get_many(session, event_ids=booked)
        affinity = {str(e.category_id): 1.0 for e in mine if e.category_id is not None}
    by_category: dict[str, float] = {}
    top = sorted(affinity.items(), key=lambda item: -item[1])[:3]
    for category_id, weight in top:
        names = await events_service.category_names(session, category_ids=[uuid.UUID(category_id)])
        ids = await _from_index(
            backend, categories=tuple(names), exclude=tuple(exclude), limit=wanted
        )
        for event_id, score in _ranked(ids).items():
            by_category[event_id] = max(by_category.get(event_id, 0.0), weight * score)
    popular = await _from_index(backend, exclude=tuple(exclude), limit=wanted)
    return await _finish(
        session,
        [
            (RecommendationReason.booked_together, together),
            (RecommendationReason.category, by_category),
            (RecommendationReason.popular, _ranked(popular)),
        ],
        exclude=exclude,
        limit=limit,
    )
