"""Which wording a message gets: an admin's template in the person's locale, choosing among
its A/B variants by weight, else the bundled wording."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.notifications import catalogue
from api.notifications.models import Channel, NotificationTemplate


def variant_bucket(campaign: str, user_key: str, total_weight: int) -> int:
    """A stable number in [0, total_weight) for a person in a campaign: the same person always
    lands in the same variant of the same campaign, whichever worker plans the message."""
    digest = hashlib.sha256(f"{campaign}\x00{user_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % total_weight


@dataclass(frozen=True)
class Choice:
    locale: str
    template_id: uuid.UUID | None = None
    version: int | None = None
    variant: str | None = None
    campaign: str | None = None


def _locales(locale: str) -> list[str]:
    candidates = [locale, locale.split("-")[0].lower(), "en"]
    return list(dict.fromkeys(candidates))


async def choose(
    session: AsyncSession, *, trigger: str, channel: Channel, user_id: uuid.UUID, locale: str
) -> Choice | None:
    """The wording to use: an admin's template in the person's locale (choosing among its
    A/B variants by weight), else the bundled one, falling back to the language, then English."""
    active = list(
        await session.scalars(
            select(NotificationTemplate)
            .where(
                NotificationTemplate.trigger == trigger,
                NotificationTemplate.channel == channel,
                NotificationTemplate.active.is_(True),
                NotificationTemplate.weight > 0,
            )
            .order_by(NotificationTemplate.variant)
        )
    )
    for candidate in _locales(locale):
        variants = [t for t in active if t.locale == candidate]
        if variants:
            if len(variants) == 1:
                only = variants[0]
                return Choice(candidate, only.id, only.version, only.variant)
            campaign = f"{trigger}:{channel.value}"
            bucket = variant_bucket(campaign, str(user_id), sum(t.weight for t in variants))
            for template in variants:
                if bucket < template.weight:
                    return Choice(
                        candidate, template.id, template.version, template.variant, campaign
                    )
                bucket -= template.weight
        if (channel, candidate) in catalogue.TRIGGERS[trigger].wording:
            return Choice(candidate)
    return None
