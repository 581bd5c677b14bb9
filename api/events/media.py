"""Event images: checked and cleaned by content, stored through the media storage."""

from __future__ import annotations

import functools
import uuid
from typing import TYPE_CHECKING

import anyio.to_thread
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.errors import Conflict, NotFound
from api.events.images import CleanImage, FileTooLarge, clean_image
from api.events.lifecycle import duplicate
from api.events.models import Event, EventMedia
from api.events.schemas import DuplicateRequest
from api.storage import Storage

if TYPE_CHECKING:
    from api.users import User

MAX_MEDIA_PER_EVENT = 20


class MediaNotFound(NotFound):
    code = "media.not_found"


class MediaLimitReached(Conflict):
    code = "media.limit_reached"


async def list_media(session: AsyncSession, *, event: Event) -> list[EventMedia]:
    rows = await session.scalars(
        select(EventMedia)
        .where(EventMedia.event_id == event.id)
        .order_by(EventMedia.sort_order, EventMedia.created_at)
    )
    return list(rows)


async def add(
    session: AsyncSession,
    storage: Storage,
    *,
    event: Event,
    actor: User,
    data: bytes,
    max_bytes: int,
    alt_text: str | None,
) -> EventMedia:
    """Clean the image (in a worker thread), store it, and record it."""
    if len(data) > max_bytes:
        raise FileTooLarge(f"Images may be at most {max_bytes // 1024} KiB.", field="file")
    count = await session.scalar(
        select(func.count()).select_from(EventMedia).where(EventMedia.event_id == event.id)
    )
    if (count or 0) >= MAX_MEDIA_PER_EVENT:
        raise MediaLimitReached(f"An event has at most {MAX_MEDIA_PER_EVENT} images.")
    clean = await anyio.to_thread.run_sync(
        functools.partial(clean_image, data, max_bytes=max_bytes)
    )
    return await _store(
        session,
        storage,
        image=clean,
        event=event,
        actor=actor,
        alt_text=alt_text,
        sort_order=count or 0,
    )


async def _store(
    session: AsyncSession,
    storage: Storage,
    *,
    image: CleanImage,
    event: Event,
    actor: User,
    alt_text: str | None,
    sort_order: int,
) -> EventMedia:
    """Store a clean image's file under the event and record it (`event_media.added`)."""
    key = f"events/{event.id}/{uuid.uuid4().hex}.{image.extension}"
    await storage.put(key, image.data, image.content_type)
    media = EventMedia(
        event_id=event.id,
        storage_key=key,
        content_type=image.content_type,
        width=image.width,
        height=image.height,
        size_bytes=len(image.data),
        alt_text=alt_text,
        sort_order=sort_order,
        uploaded_by=actor.id,
    )
    session.add(media)
    await outbox.record(session, "event_media.added", media)
    return media


async def get_or_raise(session: AsyncSession, *, event: Event, media_id: uuid.UUID) -> EventMedia:
    media = await session.get(EventMedia, media_id)
    if media is None or media.event_id != event.id:
        raise MediaNotFound(f"No image {media_id} on this event.", field="mediaId")
    return media


async def arrange(
    session: AsyncSession,
    *,
    event: Event,
    media_id: uuid.UUID,
    position: int | None = None,
    alt_text: str | None = None,
) -> EventMedia:
    """Move an image to `position` among the event's images (0 shows it first; past the end,
    last) and/or change what it shows for screen readers; the others keep their order."""
    media = await get_or_raise(session, event=event, media_id=media_id)
    changed = []
    if alt_text is not None:
        media.alt_text = alt_text.strip() or None
        changed.append(media)
    if position is not None:
        images = [m for m in await list_media(session, event=event) if m.id != media.id]
        images.insert(max(0, min(position, len(images))), media)
        for order, image in enumerate(images):
            if image.sort_order != order:
                image.sort_order = order
                changed += [] if image in changed else [image]
    for image in sorted(changed, key=lambda m: m.sort_order):
        await outbox.record(session, "event_media.updated", image)  # flushes first
    return media


async def remove(session: AsyncSession, *, media: EventMedia) -> str:
    """Delete the record; returns the storage key to delete once the transaction commits."""
    await outbox.record(session, "event_media.deleted", media)
    await session.delete(media)
    await session.flush()
    return media.storage_key


async def discard(
    session: AsyncSession, storage: Storage, *, event: Event, media_id: uuid.UUID
) -> None:
    """Remove an image: its record, committed here, then its file (never a file that a
    rolled-back removal still points to)."""
    key = await remove(session, media=await get_or_raise(session, event=event, media_id=media_id))
    await session.commit()
    await storage.delete(key)


async def copy_all(
    session: AsyncSession, storage: Storage, *, source: Event, target: Event, actor: User
) -> None:
    """Give a duplicated event its own copies of the source's images."""
    for media in await list_media(session, event=source):
        image = CleanImage(
            data=await storage.get(media.storage_key),
            content_type=media.content_type,
            extension=media.storage_key.rsplit(".", 1)[-1],
            width=media.width,
            height=media.height,
        )
        await _store(
            session,
            storage,
            image=image,
            event=target,
            actor=actor,
            alt_text=media.alt_text,
            sort_order=media.sort_order,
        )


async def duplicate_with_images(
    session: AsyncSession,
    storage: Storage,
    *,
    event: Event,
    actor: User,
    options: DuplicateRequest,
) -> Event:
    """A new draft with the event's details, ticket types and copies of its images."""
    copy = await duplicate(session, event=event, actor=actor, options=options)
    await copy_all(session, storage, source=event, target=copy, actor=actor)
    return copy
