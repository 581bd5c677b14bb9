"""HTTP routes of the catalogue's categories."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.auth.dependencies import AdminDep
from api.deps import Public, SessionDep
from api.errors import problem_responses
from api.events import service
from api.events.models import Category
from api.events.schemas import CategoryCreate, CategoryOut

router = APIRouter(tags=["events"], responses=problem_responses(422))


def _category_out(category: Category, upcoming: int) -> CategoryOut:
    return CategoryOut.model_validate(
        {
            **{k: getattr(category, k) for k in ("id", "name", "slug", "description")},
            "upcoming_events": upcoming,
        }
    )


@router.post(
    "/categories",
    status_code=status.HTTP_201_CREATED,
    response_model=CategoryOut,
    tags=["categories"],
    responses=problem_responses(401, 403, 409),
)
async def create_category(
    body: CategoryCreate, _admin: AdminDep, session: SessionDep
) -> CategoryOut:
    """Add a category (admins)."""
    category = await service.create_category(session, name=body.name, description=body.description)
    return _category_out(category, 0)


@router.get(
    "/categories", response_model=list[CategoryOut], tags=["categories"], dependencies=[Public]
)
async def list_categories(session: SessionDep) -> list[CategoryOut]:
    """Every category with its number of published upcoming events."""
    return [_category_out(c, n) for c, n in await service.list_categories(session)]
