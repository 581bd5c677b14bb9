"""Selections of events that other domains put into their own statements, so they need no
column of the events table. Each is a select to embed (no round trip of its own)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, Subquery, select

from api.events.models import Event, EventStatus


def other_events_of(organizer_id: uuid.UUID, *, excluding: uuid.UUID) -> Select[uuid.UUID]:
    """The ids of an organizer's events but one."""
    return select(Event.id).where(Event.organizer_id == organizer_id, Event.id != excluding)


def published_starting(*, after: datetime, until: datetime) -> Subquery:
    """Published events starting after `after` and by `until`: columns `id` and `starts_at`."""
    return (
        select(Event.id, Event.starts_at)
        .where(
            Event.status == EventStatus.published,
            Event.starts_at > after,
            Event.starts_at <= until,
        )
        .subquery()
    )
