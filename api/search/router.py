"""HTTP routes of search: suggestions, clicks on results, similar events, recommendations.
(The search itself is `GET /events?q=...`, in `listing_router`.)"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from api.auth.dependencies import CurrentUser, MaybeUser
from api.deps import Public, SessionDep, SettingsDep, visitor_id
from api.errors import problem_responses
from api.events import service as events_service
from api.events.views import event_view
from api.search import recommendations, service
from api.search.schemas import (
    ClickIn,
    ClickOut,
    Recommendation,
    RecommendationList,
    SuggestionList,
    SuggestionOut,
)

router = APIRouter(tags=["search"], responses=problem_responses(422))

Limit = Annotated[int, Query(ge=1, le=50)]


@router.get(
    "/search/suggest",
    response_model=SuggestionList,
    dependencies=[Public],
    responses=problem_responses(503),
)
async def suggest(
    settings: SettingsDep,
    q: Annotated[str, Query(min_length=1, max_length=100, description="What was typed so far")],
    limit: Limit = 10,
) -> SuggestionList:
    """Completions as someone types: event titles (most popular first), categories, cities."""
    found = await service.suggest(service.backend_for(settings), prefix=q, limit=limit)
    return SuggestionList(
        items=[
            SuggestionOut(
                text=s.text,
                kind=s.kind.value,
                event_id=uuid.UUID(s.event_id) if s.event_id else None,
            )
            for s in found
        ]
    )


@router.post(
    "/search/clicks",
    status_code=status.HTTP_201_CREATED,
    response_model=ClickOut,
    dependencies=[Public],
    responses=problem_responses(404),
)
async def record_click(
    body: ClickIn, request: Request, user: MaybeUser, session: SessionDep
) -> ClickOut:
    """Someone opened a result of a search (for click-through in the search analytics)."""
    click_id = await service.record_click(
        session,
        search_id=body.search_id,
        event_id=body.event_id,
        position=body.position,
        user_id=user.id if user else None,
        visitor_id=visitor_id(request),
    )
    return ClickOut(click_id=click_id)


@router.get(
    "/search/{searchId}/open/{eventId}",
    status_code=status.HTTP_303_SEE_OTHER,
    response_class=RedirectResponse,
    dependencies=[Public],
    responses={303: {"description": "To the event's page"}, **problem_responses(404)},
)
async def open_result(
    searchId: uuid.UUID,
    eventId: uuid.UUID,
    request: Request,
    user: MaybeUser,
    session: SessionDep,
    position: Annotated[int, Query(ge=1, le=10_000)],
) -> Response:
    """A result link (`click_url`): records the click, then sends the browser to the event's
    page in the shop."""
    event = await events_service.get_visible_or_raise(session, event_id=eventId, viewer=user)
    await service.record_click_apart(
        request.app.state.sessionmaker,
        search_id=searchId,
        event_id=eventId,
        position=position,
        user_id=user.id if user else None,
        visitor_id=visitor_id(request),
    )
    # A path: the page is on the host that served this link.
    return RedirectResponse(f"/event/{event.slug}", status_code=status.HTTP_303_SEE_OTHER)


@router.get(
    "/events/{eventId}/similar",
    response_model=RecommendationList,
    tags=["events"],
    dependencies=[Public],
    responses=problem_responses(404, 503),
)
async def similar_events(
    eventId: uuid.UUID,
    user: MaybeUser,
    session: SessionDep,
    settings: SettingsDep,
    limit: Limit = 10,
) -> RecommendationList:
    """Events like this one: booked by the same people, of the same category, or popular;
    upcoming, not sold out, and not already booked by the caller."""
    event = await events_service.get_visible_or_raise(session, event_id=eventId, viewer=user)
    found = await recommendations.similar(
        session,
        service.backend_for(settings),
        settings.snapshot_dir,
        event=event,
        viewer_id=user.id if user else None,
        limit=limit,
    )
    return RecommendationList(
        items=[
            Recommendation(event=event_view(r.event), reason=r.reason, score=r.score) for r in found
        ]
    )


@router.get(
    "/users/me/recommendations",
    response_model=RecommendationList,
    tags=["users"],
    responses=problem_responses(401, 503),
)
async def my_recommendations(
    user: CurrentUser, session: SessionDep, settings: SettingsDep, limit: Limit = 10
) -> RecommendationList:
    """Events the caller may like, from what they and people like them booked; popular
    events for someone with no history. Never past, sold out, cancelled or already booked."""
    found = await recommendations.for_user(
        session,
        service.backend_for(settings),
        settings.snapshot_dir,
        user_id=user.id,
        limit=limit,
    )
    return RecommendationList(
        items=[
            Recommendation(event=event_view(r.event), reason=r.reason, score=r.score) for r in found
        ]
    )
