"""What every dashboard page starts from: the signed-in viewer, their reader of the published
snapshot, the sidebar's filters and the viewer's formats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import access, data
from dashboards.formatting import Formatter

NO_SNAPSHOT = (
    "No figures are published yet. Run the pipelines (the `refresh` job in the Dagster UI, or "
    "`make up`, which runs it once) to build and publish them."
)
SIGN_IN_FIRST = "Sign in to see the dashboards."
EVENT_NAMES = ["event_id", "title", "organizer_name", "category_name", "timezone"]


@dataclass(frozen=True)
class Page:
    """What every page starts from: the viewer's reader, the sidebar's filters, the formats."""

    reader: data.Reader
    filters: data.Filters
    fmt: Formatter

    @property
    def viewer(self) -> access.Viewer:
        return self.reader.viewer

    @property
    def currency(self) -> str:
        return self.filters.currency or "EUR"

    def events(self) -> pd.DataFrame:
        """Names, organizers and time zones of the events the viewer may see."""
        events = self.reader.table("dim_events")
        if events.empty:
            return pd.DataFrame(columns=EVENT_NAMES)
        return events.reindex(columns=EVENT_NAMES)

    def money(self, values: pd.Series, currency: str | pd.Series | None = None) -> list[str]:
        currencies = currency if isinstance(currency, pd.Series) else None
        if currencies is not None:
            return [self.fmt.money(v, c) for v, c in zip(values, currencies, strict=True)]
        return [self.fmt.money(v, currency or self.currency) for v in values]

    def chart(self, chart: Any) -> None:
        """An Altair chart, its numbers and months in the viewer's language."""
        show_chart(chart, self.fmt)


def show_chart(chart: Any, fmt: Formatter) -> None:
    """An Altair chart, its numbers and months in the language of `fmt`."""
    st.altair_chart(chart.configure(locale=fmt.vega_locale()), width="stretch")


def start(title: str) -> Page | None:
    st.title(title)
    viewer = access.current_viewer()
    if viewer is None:
        st.error(SIGN_IN_FIRST)
        return None
    build = data.current_build()
    if build is None:
        data.empty_state(NO_SNAPSHOT)
        return None
    reader = data.Reader(build, viewer)
    fmt = Formatter.of(viewer.locale, viewer.timezone, reader.minor_units())
    built = data.manifest(build).get("built_at")
    st.caption(
        f"Figures as of {fmt.moment(built)}." if built else "Figures of the latest publication."
    )
    date_pattern = fmt.locale.date_formats["short"].pattern
    return Page(reader, data.sidebar_filters(reader, date_pattern), fmt)
