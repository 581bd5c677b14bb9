"""Request and response bodies of search, suggestions, clicks and recommendations."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.events.schemas import EventOut
from api.inputs import Input


class SuggestionOut(BaseModel):
    text: str
    kind: Literal["title", "category", "city"]
    event_id: uuid.UUID | None = Field(default=None, description="For an event title")


class SuggestionList(BaseModel):
    items: list[SuggestionOut]


class ClickIn(Input):
    search_id: uuid.UUID = Field(description="`search_id` of the result page")
    event_id: uuid.UUID
    position: Annotated[int, Field(ge=1, le=10_000, description="1-based rank in the results")]


class ClickOut(BaseModel):
    click_id: uuid.UUID


class RecommendationReason(StrEnum):
    booked_together = "booked_together"
    category = "category"
    popular = "popular"


class Recommendation(BaseModel):
    event: EventOut
    reason: RecommendationReason
    score: float


class RecommendationList(BaseModel):
    items: list[Recommendation]
