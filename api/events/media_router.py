"""HTTP routes of event images."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile, status

from api.auth.dependencies import MaybeUser, OrganizerDep
from api.deps import SessionDep, SettingsDep, StorageDep
from api.errors import problem_responses
from api.events import media as media_service
from api.events import service
from api.events.models import EventMedia
from api.events.schemas import MediaOut, MediaUpdate
from api.storage import Storage

router = APIRouter(tags=["media"], responses=problem_responses(422))


def media_view(media: EventMedia, storage: Storage) -> MediaOut:
    return MediaOut(
        id=media.id,
        event_id=media.event_id,
        url=storage.url(media.storage_key),
        content_type=media.content_type,
        width=media.width,
        height=media.height,
        size_bytes=media.size_bytes,
        alt_text=media.alt_text,
        sort_order=media.sort_order,
        created_at=media.created_at,
    )


@router.post(
    "/events/{eventId}/media",
    status_code=status.HTTP_201_CREATED,
    response_model=MediaOut,
    responses=problem_responses(401, 403, 404, 409, 413, 415),
)
async def upload_media(
    eventId: uuid.UUID,
    file: Annotated[UploadFile, File(description="A JPEG, PNG, WebP or GIF image")],
    actor: OrganizerDep,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    alt_text: Annotated[str | None, Form(max_length=300)] = None,
) -> MediaOut:
    """Add an image; it is checked by its content and stored without its metadata (EXIF, GPS)."""
    event = await service.get_managed_or_raise(session, event_id=eventId, actor=actor)
    data = await file.read(settings.media_max_bytes + 1)  # never more than the limit in memory
    media = await media_service.add(
        session,
        storage,
        event=event,
        actor=actor,
        data=data,
        max_bytes=settings.media_max_bytes,
        alt_text=alt_text,
    )
    return media_view(media, storage)


@router.get(
    "/events/{eventId}/media", response_model=list[MediaOut], responses=problem_responses(404)
)
async def list_media(
    eventId: uuid.UUID, user: MaybeUser, session: SessionDep, storage: StorageDep
) -> list[MediaOut]:
    """An event's images in display order."""
    event = await service.get_visible_or_raise(session, event_id=eventId, viewer=user)
    return [media_view(m, storage) for m in await media_service.list_media(session, event=event)]


@router.patch(
    "/events/{eventId}/media/{mediaId}",
    response_model=list[MediaOut],
    responses=problem_responses(401, 403, 404),
)
async def arrange_media(
    eventId: uuid.UUID,
    mediaId: uuid.UUID,
    body: MediaUpdate,
    actor: OrganizerDep,
    session: SessionDep,
    storage: StorageDep,
) -> list[MediaOut]:
    """Move an image among the event's images (the first is the one listings show) or change
    its text for screen readers; answers with all the event's images in their new order."""
    event = await service.get_managed_or_raise(session, event_id=eventId, actor=actor)
    await media_service.arrange(
        session, event=event, media_id=mediaId, position=body.position, alt_text=body.alt_text
    )
    return [media_view(m, storage) for m in await media_service.list_media(session, event=event)]


@router.delete(
    "/events/{eventId}/media/{mediaId}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404),
)
async def delete_media(
    eventId: uuid.UUID,
    mediaId: uuid.UUID,
    actor: OrganizerDep,
    session: SessionDep,
    storage: StorageDep,
) -> Response:
    """Remove an image; the file goes once the removal is committed."""
    event = await service.get_managed_or_raise(session, event_id=eventId, actor=actor)
    await media_service.discard(session, storage, event=event, media_id=mediaId)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
