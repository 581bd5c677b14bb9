"""Request and response bodies of search, suggestions, clicks and recommendations."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.events import EventOut
from api.inputs import Input, example


class SuggestionOut(BaseModel):
    text: str
    kind: Literal["title", "category", "city"]
    event_id: uuid.UUID | None = Field(default=None, description="For an event title")


class SuggestionList(BaseModel):
    items: list[SuggestionOut]


class ClickIn(Input):
    model_config = example(
        {
            "search_id": "c7e1f3a5-2b4d-4f6e-9a8b-0c1d2e3f4a5b",
            "event_id": "3f1c6d2e-8a4b-4c1e-9f7a-2b5d0c9e1a77",
            "position": 1,
        }
    )

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
