"""The published snapshot, as the dashboards read it: Parquet files under
`TESSERA_SNAPSHOT_DIR/current`, never the warehouse itself (a pipeline may be writing it)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

DEFAULT_SNAPSHOT_DIR = "var/snapshot"


def snapshot_dir() -> Path:
    """Directory the pipelines publish the read-only marts snapshot into."""
    return Path(os.environ.get("TESSERA_SNAPSHOT_DIR", DEFAULT_SNAPSHOT_DIR)).absolute()


def current_build() -> Path | None:
    """The build `current` points at (resolved once per page run, so a swap mid-run does not
    mix two builds), or None before the first publication."""
    link = snapshot_dir() / "current"
    if not link.exists():
        return None
    return link.resolve()


def manifest(build: Path) -> dict[str, Any]:
    path = build / "manifest.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}


@st.cache_data(show_spinner=False, max_entries=64)
def _read(build: str, table: str) -> pd.DataFrame:
    path = Path(build) / f"{table}.parquet"
    if not path.exists():
        return pd.DataFrame()
    return pd.read_parquet(path)


def table(build: Path, name: str) -> pd.DataFrame:
    """A mart of this build (a copy: callers may change it)."""
    return _read(str(build), name).copy()


def minor_units(build: Path) -> dict[str, int]:
    currencies = table(build, "dim_currencies")
    if currencies.empty:
        return {}
    return dict(zip(currencies["currency_code"], currencies["minor_units"], strict=True))


def to_major(build: Path, frame: pd.DataFrame, currency: str, columns: list[str]) -> pd.DataFrame:
    """Minor units as amounts in the currency (cents to euros, yen stay yen)."""
    scale = 10 ** minor_units(build).get(currency, 2)
    for column in columns:
        frame[column] = frame[column].astype("float64") / scale
    return frame


@dataclass(frozen=True)
class Filters:
    start: date | None
    end: date | None
    organizers: tuple[str, ...]
    categories: tuple[str, ...]
    currency: str | None

    def apply(self, frame: pd.DataFrame, date_column: str | None = None) -> pd.DataFrame:
        """Rows within the filters, for the columns the frame has."""
        if frame.empty:
            return frame
        keep = pd.Series(True, index=frame.index)
        if date_column is not None and date_column in frame:
            days = pd.to_datetime(frame[date_column]).dt.date
            if self.start is not None:
                keep &= days >= self.start
            if self.end is not None:
                keep &= days <= self.end
        if self.organizers and "organizer_id" in frame:
            keep &= frame["organizer_id"].isin(self.organizers)
        if self.categories and "category_id" in frame:
            keep &= frame["category_id"].isin(self.categories)
        if self.currency and "currency" in frame:
            keep &= frame["currency"] == self.currency
        return frame[keep]


def sidebar_filters(build: Path) -> Filters:
    """Date range, organizer, category and currency, in the sidebar of every page."""
    revenue = table(build, "revenue_daily")
    events = table(build, "dim_events")
    st.sidebar.header("Filters")
    start = end = None
    if not revenue.empty:
        days = pd.to_datetime(revenue["revenue_date"]).dt.date
        chosen = st.sidebar.date_input(
            "Dates", value=(days.min(), days.max()), min_value=days.min(), max_value=days.max()
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
