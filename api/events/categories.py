"""Categories of the catalogue."""

from __future__ import annotations

import uuid

from slugify import slugify
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.db import utcnow
from api.events.errors import CategoryExists, CategoryNotFound
from api.events.models import Category, Event
from api.events.queries import publicly_listed


async def create_category(session: AsyncSession, *, name: str, description: str | None) -> Category:
    slug = slugify(name, max_length=120) or uuid.uuid4().hex[:8]
    category = Category(name=name.strip(), slug=slug, description=description)
    try:
        async with session.begin_nested():
            session.add(category)
            await session.flush()
    except IntegrityError as exc:
        raise CategoryExists(f"A category named {name!r} exists already.", field="name") from exc
    await outbox.record(session, "category.created", category)
    return category


async def get_category_or_raise(session: AsyncSession, *, category_id: uuid.UUID) -> Category:
    category = await session.get(Category, category_id)
    if category is None:
        raise CategoryNotFound(f"No category with id {category_id}.", field="category_id")
    return category


async def list_categories(session: AsyncSession) -> list[tuple[Category, int]]:
    """Categories by name, each with its number of published, public, upcoming events."""
    upcoming = (
        select(func.count(Event.id))
        .where(Event.category_id == Category.id, *publicly_listed(utcnow()))
        .correlate(Category)
        .scalar_subquery()
    )
    rows = await session.execute(select(Category, upcoming).order_by(Category.name))
    return [(row[0], int(row[1])) for row in rows.all()]


async def category_names(session: AsyncSession, *, category_ids: list[uuid.UUID]) -> list[str]:
    if not category_ids:
        return []
    return list(await session.scalars(select(Category.name).where(Category.id.in_(category_ids))))
