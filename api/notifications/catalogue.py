"""What can trigger a message, who may switch it off, and the bundled wording of each.

Bundled templates are the defaults: an admin's template for the same trigger, channel and
locale (see the admin endpoints) replaces them. Every trigger has a bundled English template on
each of its channels; German ones exist for the messages people see most. The wording itself
is data in the `wording` package, one TOML file per family of triggers.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.notifications.models import Category, Channel
from api.notifications.wording import TRIGGERS, Trigger, Wording

__all__ = [
    "ALL_CHANNELS",
    "CATEGORIES",
    "TRIGGERS",
    "CategoryRules",
    "Trigger",
    "Wording",
    "bundled",
    "channels_of",
]

ALL_CHANNELS = (Channel.email, Channel.sms, Channel.push, Channel.in_app)


@dataclass(frozen=True)
class CategoryRules:
    channels: tuple[Channel, ...]  # where this category may go
    defaults: frozenset[Channel]  # on unless the person switches them off
    mandatory: frozenset[Channel] = frozenset()  # cannot be switched off
    description: str = ""


CATEGORIES: dict[Category, CategoryRules] = {
    Category.account: CategoryRules(
        (Channel.email,),
        frozenset({Channel.email}),
        frozenset({Channel.email}),
        "Email verification, password resets and security notices",
    ),
    Category.orders: CategoryRules(
        ALL_CHANNELS,
        frozenset({Channel.email, Channel.in_app}),
        frozenset({Channel.email}),
        "Booking confirmations with tickets and receipts, cancellations and refunds",
    ),
    Category.event_updates: CategoryRules(
        ALL_CHANNELS,
        frozenset({Channel.email, Channel.in_app, Channel.push}),
        frozenset({Channel.email}),
        "An event you hold tickets for changed or was cancelled",
    ),
    Category.reminders: CategoryRules(
        ALL_CHANNELS,
        frozenset({Channel.email, Channel.in_app, Channel.push}),
        description="Reminders 24 hours and 1 hour before your events",
    ),
    Category.waitlist: CategoryRules(
        ALL_CHANNELS,
        frozenset({Channel.email, Channel.in_app, Channel.push}),
        description="A seat you waited for is yours to book",
    ),
    Category.marketing: CategoryRules(
        (Channel.email, Channel.push, Channel.in_app),
        frozenset(),
        description="New events from organizers you booked with (only if you opt in)",
    ),
}


def channels_of(trigger: str) -> tuple[Channel, ...]:
    """The channels a trigger has bundled wording for."""
    return tuple(
        channel
        for channel in ALL_CHANNELS
        if any(c == channel for c, _ in TRIGGERS[trigger].wording)
    )


def bundled(trigger: str, channel: Channel, locale: str) -> tuple[str, Wording] | None:
    """The bundled wording for a locale, falling back to its language and then English."""
    wording = TRIGGERS[trigger].wording
    for candidate in (locale, locale.split("-")[0].lower(), "en"):
        if (channel, candidate) in wording:
            return candidate, wording[(channel, candidate)]
    return None
