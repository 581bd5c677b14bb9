"""The finance page: the reports as files for machines."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from contracts.reports import REPORTS
from dashboards.page import start


def finance() -> None:
    page = start("Finance exports")
    if page is None:
        return
    st.write(
        "Files for machines: amounts are integers in minor units (cents; yen as yen) with "
        "their ISO currency beside them, as in the ledger, and times are UTC. The date filter "
        "applies, and so do the organizer, category and currency filters."
    )
    for report in REPORTS.values():
        name, date_column = report.mart, report.date_column
        st.subheader(report.title)
        if not page.reader.readable(name):
            st.caption("Covers every organizer together: finance and admins download it.")
            continue
        if page.reader.holds_personal_data(name) and not page.viewer.sees_personal_data:
            st.warning(
                "Names buyers and their email addresses, so it is for finance and admins: "
                "analysts do not download it.",
                icon=":material/lock:",
            )
            continue
        frame = page.filters.apply(
            page.reader.table(name), date_column, monthly=date_column == "month"
        )
        st.caption(f"{page.fmt.number(len(frame))} {'row' if len(frame) == 1 else 'rows'}")
        _downloads(name, frame)


def _downloads(name: str, frame: pd.DataFrame) -> None:
    columns = st.columns(3)
    columns[0].download_button(
        "CSV", frame.to_csv(index=False).encode(), f"{name}.csv", "text/csv", key=f"{name}-csv"
    )
    workbook = io.BytesIO()
    with pd.ExcelWriter(workbook, engine="xlsxwriter") as writer:
        _excel_safe(frame).to_excel(writer, index=False, sheet_name=name[:31])
    columns[1].download_button(
        "XLSX",
        workbook.getvalue(),
        f"{name}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{name}-xlsx",
    )
    parquet = io.BytesIO()
    frame.to_parquet(parquet, index=False)
    columns[2].download_button(
        "Parquet",
        parquet.getvalue(),
        f"{name}.parquet",
        "application/octet-stream",
        key=f"{name}-parquet",
    )


def _excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Excel has no time zones: times are written as UTC."""
    frame = frame.copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame
