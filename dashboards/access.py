"""Who may see what on the dashboards. Admins and finance see everything; analysts every
organizer's analytics but no one's personal data; organizers only their own events; anyone
else (attendees, suspended accounts, roles we do not know) is refused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from contracts import snapshot

FULL_ACCESS = frozenset({"admin", "finance"})
EVERY_ORGANIZER = FULL_ACCESS | {"analyst"}
DASHBOARD_ROLES = EVERY_ORGANIZER | {"organizer"}

# Columns that name or identify a person (a buyer, a customer). Analysts never read them;
# organizers read them only in rows of their own events (their own invoices' buyers).
PERSONAL_COLUMNS = snapshot.PERSONAL_COLUMNS
# Figures computed over every organizer's events, from which an organizer could work out
# another organizer's (an event's sell-through against its category's average).
CROSS_ORGANIZER_COLUMNS = frozenset({"pace_vs_category"})
# Marts that belong to no one (reference data), read whole by everyone signed in.
REFERENCE_TABLES = snapshot.REFERENCE_TABLES

VIEWER_KEY = "tessera_viewer"


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, as the API's profile of them says this run."""

    user_id: str
    email: str
    name: str
    role: str
    status: str
    locale: str
    timezone: str

    @classmethod
    def from_profile(cls, profile: Mapping[str, Any]) -> Viewer:
        return cls(
            user_id=str(profile["id"]),
            email=str(profile.get("email", "")),
            name=str(profile.get("display_name") or profile.get("full_name") or ""),
            role=str(profile.get("role", "")),
            status=str(profile.get("status", "")),
            locale=str(profile.get("locale") or "en"),
            timezone=str(profile.get("timezone") or "UTC"),
        )

    @property
    def may_open_dashboards(self) -> bool:
        return self.status == "active" and self.role in DASHBOARD_ROLES

    @property
    def sees_every_organizer(self) -> bool:
        return self.may_open_dashboards and self.role in EVERY_ORGANIZER

    @property
    def sees_personal_data(self) -> bool:
        return self.may_open_dashboards and self.role != "analyst"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


ROLE_LABELS = {
    "admin": "Admin",
    "finance": "Finance",
    "analyst": "Analyst",
    "organizer": "Organizer",
    "attendee": "Attendee",
}


def refusal(viewer: Viewer) -> str:
    """Why this account may not open the dashboards, in words."""
    if viewer.status != "active":
        return "This account is not active, so it cannot open the analytics dashboards."
    return (
        f"Your account is an {viewer.role_label.lower()} account, which has no access to the "
        "analytics dashboards: they are for organizers, analysts, finance and admins. "
        "Ask an admin if you need access."
        if viewer.role == "attendee"
        else f"Your account's role ({viewer.role}) has no access to the analytics dashboards. "
        "Ask an admin if you need access."
    )


@dataclass(frozen=True)
class PageSpec:
    script: str
    title: str
    icon: str
    every_organizer: bool  # figures across all organizers, which no organizer sees


PAGES = (
    PageSpec("screens/overview.py", "Overview", ":material/dashboard:", False),
    PageSpec("screens/revenue.py", "Revenue", ":material/payments:", False),
    PageSpec("screens/events.py", "Event performance", ":material/event:", False),
    PageSpec("screens/audience.py", "Audience", ":material/group:", False),
    PageSpec("screens/search.py", "Search analytics", ":material/search:", True),
    PageSpec("screens/notifications.py", "Notifications", ":material/notifications:", True),
    PageSpec("screens/finance.py", "Finance exports", ":material/download:", False),
)


def pages_for(viewer: Viewer) -> list[PageSpec]:
    """The pages this viewer may open: none for those refused; organizers not the pages whose
    figures span every organizer (searches, notification campaigns)."""
    if not viewer.may_open_dashboards:
        return []
    return [page for page in PAGES if viewer.sees_every_organizer or not page.every_organizer]


def current_viewer() -> Viewer | None:
    """The viewer the entry script signed in this run (None: nobody, or a page run alone)."""
    viewer = st.session_state.get(VIEWER_KEY)
    return viewer if isinstance(viewer, Viewer) and viewer.may_open_dashboards else None
