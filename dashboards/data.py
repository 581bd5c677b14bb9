"""The published snapshot, as the dashboards read it: Parquet files under
`TESSERA_SNAPSHOT_DIR/current`, never the warehouse itself (a pipeline may be writing it),
through the snapshot contract's reader (`contracts.snapshot`).

Every page reads through a `Reader` for the signed-in viewer, which keeps to what they may see
when the data is read: an organizer's reader holds only rows of their own events (keyed by
their user id, not by a sidebar choice), an analyst's holds no column that names a person."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from contracts import snapshot
from dashboards import access

DEFAULT_SNAPSHOT_DIR = "var/snapshot"


def snapshot_dir() -> Path:
    """Directory the pipelines publish the read-only marts snapshot into."""
    return Path(os.environ.get("TESSERA_SNAPSHOT_DIR", DEFAULT_SNAPSHOT_DIR)).absolute()


def current_build() -> Path | None:
    """The build `current` points at (resolved once per page run, so a swap mid-run does not
    mix two builds), or None before the first publication."""
    return snapshot.current(snapshot_dir())


def manifest(build: Path) -> dict[str, Any]:
    found = snapshot.Build(build).manifest()
    return found.as_dict() if found is not None else {}


@st.cache_data(show_spinner=False, max_entries=64)
def _read(build: str, table: str) -> pd.DataFrame:
    published = snapshot.Build(Path(build))
    if not published.has(table):
        return pd.DataFrame()
    return published.pandas(table)


class Reader:
    """The marts of one build, as one viewer may see them."""

    def __init__(self, build: Path, viewer: access.Viewer) -> None:
        if not viewer.may_open_dashboards:
            raise PermissionError(access.refusal(viewer))
        self.build = build
        self.viewer = viewer

    def table(self, name: str) -> pd.DataFrame:
        """A mart as this viewer may see it (a copy: callers may change it)."""
        frame = self._rows(name)
        if not self.viewer.sees_personal_data:
            frame = frame.drop(columns=sorted(access.PERSONAL_COLUMNS & set(frame.columns)))
        return frame

    def readable(self, name: str) -> bool:
        """Whether this viewer reads the mart at all: an organizer only marts whose rows say
        whose event they are about."""
        if self.viewer.sees_every_organizer or name in access.REFERENCE_TABLES:
            return True
        columns = set(_read(str(self.build), name).columns)
        return bool(columns & {"organizer_id", "event_id"})

    def holds_personal_data(self, name: str) -> bool:
        return bool(access.PERSONAL_COLUMNS & set(_read(str(self.build), name).columns))

    def paying_customers(self, filters: Filters) -> int:
        """People who paid for a ticket within the filters: a count, never who they are."""
        payments = filters.apply(self._rows("fct_payments"), "sale_date")
        return int(payments["user_id"].nunique()) if "user_id" in payments else 0

    def minor_units(self) -> dict[str, int]:
        return snapshot.Build(self.build).minor_units()

    def _rows(self, name: str) -> pd.DataFrame:
        frame = _read(str(self.build), name).copy()
        if self.viewer.sees_every_organizer or name in access.REFERENCE_TABLES:
            return frame
        if "organizer_id" in frame:
            frame = frame[frame["organizer_id"] == self.viewer.user_id]
        elif "event_id" in frame:
            frame = frame[frame["event_id"].isin(self._own_events())]
        else:  # whose rows these are is unknown: none of them are the organizer's to see
            frame = frame.iloc[0:0]
        return frame.drop(columns=sorted(access.CROSS_ORGANIZER_COLUMNS & set(frame.columns)))

    def _own_events(self) -> set[str]:
        events = _read(str(self.build), "dim_events")
        if events.empty:
            return set()
        return set(events.loc[events["organizer_id"] == self.viewer.user_id, "event_id"])


@dataclass(frozen=True)
class Filters:
    start: date | None
    end: date | None
    organizers: tuple[str, ...]
    categories: tuple[str, ...]
    currency: str | None

    def apply(
        self, frame: pd.DataFrame, date_column: str | None = None, *, monthly: bool = False
    ) -> pd.DataFrame:
        """Rows within the filters, for the columns the frame has; a monthly row (dated the
        first of its month) is within the dates when its month overlaps them."""
        if frame.empty:
            return frame
        keep = pd.Series(True, index=frame.index)
        if date_column is not None and date_column in frame:
            days = pd.to_datetime(frame[date_column]).dt.date
            if self.start is not None:
                keep &= days >= (self.start.replace(day=1) if monthly else self.start)
            if self.end is not None:
                keep &= days <= self.end
        if self.organizers and "organizer_id" in frame:
            keep &= frame["organizer_id"].isin(self.organizers)
        if self.categories and "category_id" in frame:
            keep &= frame["category_id"].isin(self.categories)
        if self.currency and "currency" in frame:
            keep &= frame["currency"] == self.currency
        return frame[keep]


def _date_format(pattern: str) -> str:
    """Streamlit's date input format closest to a locale's short date pattern."""
    first = next((ch for ch in pattern if ch in "yMd"), "y")
    separator = next((ch for ch in pattern if ch in "/.-"), "/")
    if first == "d":
        return f"DD{separator}MM{separator}YYYY"
    if first == "M":
        return f"MM{separator}DD{separator}YYYY"
    return f"YYYY{separator}MM{separator}DD"


def sidebar_filters(reader: Reader, date_pattern: str) -> Filters:
    """Date range, organizer, category and currency, in the sidebar of every page. The
    organizers offered are those the reader holds: an organizer is offered only themselves."""
    revenue = reader.table("revenue_daily")
    events = reader.table("dim_events")
    st.sidebar.header("Filters")
    start = end = None
    if not revenue.empty:
        days = pd.to_datetime(revenue["revenue_date"]).dt.date
        chosen = st.sidebar.date_input(
            "Dates",
            value=(days.min(), days.max()),
            min_value=days.min(),
            max_value=days.max(),
            format=_date_format(date_pattern),  # type: ignore[arg-type]
        )
        if isinstance(chosen, tuple) and len(chosen) == 2:
            start, end = chosen
    organizers: dict[str, str] = {}
    categories: dict[str, str] = {}
    if not events.empty:
        organizers = dict(zip(events["organizer_name"], events["organizer_id"], strict=False))
        categories = dict(
            zip(events["category_name"], events["category_id"].fillna(""), strict=False)
        )
    picked_organizers = st.sidebar.multiselect("Organizers", sorted(organizers))
    picked_categories = st.sidebar.multiselect("Categories", sorted(categories))
    currencies = sorted(revenue["currency"].unique()) if not revenue.empty else []
    currency = st.sidebar.selectbox("Currency", currencies, index=0) if currencies else None
    return Filters(
        start=start,
        end=end,
        organizers=tuple(organizers[name] for name in picked_organizers),
        categories=tuple(categories[name] for name in picked_categories),
        currency=currency,
    )


def empty_state(message: str) -> None:
    st.info(message, icon=":material/hourglass_empty:")
