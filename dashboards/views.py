"""The dashboard pages. Each reads the published snapshot and the sidebar's filters."""

from __future__ import annotations

import io
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data, notifications_view, search_view

NO_SNAPSHOT = (
    "No snapshot published yet at `{path}`. Run the pipelines (the `refresh` job in the Dagster "
    "UI, or `make up`, which runs it once) to build and publish one."
)


def _start(title: str) -> tuple[Path, data.Filters] | None:
    st.title(title)
    build = data.current_build()
    if build is None:
        data.empty_state(NO_SNAPSHOT.format(path=data.snapshot_dir()))
        return None
    built = data.manifest(build).get("built_at", "unknown time")
    st.caption(f"Reading the published snapshot at `{data.snapshot_dir()}` (built {built}).")
    return build, data.sidebar_filters(build)


def _money(build: Path, frame: pd.DataFrame, currency: str | None, *columns: str) -> pd.DataFrame:
    return data.to_major(build, frame, currency or "EUR", list(columns))


def overview() -> None:
    started = _start("Overview")
    if started is None:
        return
    build, filters = started
    revenue = filters.apply(data.table(build, "revenue_daily"), "revenue_date")
    performance = filters.apply(data.table(build, "event_performance"))
    customers = data.table(build, "customers")
    if revenue.empty and performance.empty:
        data.empty_state("Nothing sold yet in this selection.")
        return
    revenue = _money(
        build,
        revenue,
        filters.currency,
        "gross_cents",
        "net_cents",
        "refunds_cents",
        "organizer_payout_cents",
        "platform_take_cents",
    )
    gross = revenue["gross_cents"].sum()
    columns = st.columns(5)
    columns[0].metric(f"Net revenue ({filters.currency})", f"{revenue['net_cents'].sum():,.2f}")
    columns[1].metric("Tickets sold", f"{int(performance['seats_sold'].sum()):,}")
    columns[2].metric("Events", f"{len(performance):,}")
    columns[3].metric("Customers", f"{len(customers):,}")
    columns[4].metric(
        "Refund rate", f"{(revenue['refunds_cents'].sum() / gross if gross else 0):.1%}"
    )
    daily = revenue.groupby("revenue_date", as_index=False)["net_cents"].sum()
    st.subheader("Net revenue per day")
    st.altair_chart(
        alt.Chart(daily)
        .mark_area(opacity=0.4, line=True, point=True)
        .encode(
            x=alt.X("revenue_date:T", title=None),
            y=alt.Y("net_cents:Q", title=f"Net ({filters.currency})"),
            tooltip=["revenue_date:T", alt.Tooltip("net_cents:Q", format=",.2f")],
        ),
        use_container_width=True,
    )
    st.subheader("Top events")
    names = data.table(build, "dim_events")[["event_id", "title", "organizer_name"]]
    top = (
        revenue.groupby("event_id", as_index=False)["net_cents"]
        .sum()
        .merge(names, on="event_id", how="left")
        .sort_values("net_cents", ascending=False)
        .head(10)
    )
    st.dataframe(
        top[["title", "organizer_name", "net_cents"]].rename(
            columns={"title": "Event", "organizer_name": "Organizer", "net_cents": "Net"}
        ),
        hide_index=True,
        use_container_width=True,
    )


def revenue() -> None:
    started = _start("Revenue")
    if started is None:
        return
    build, filters = started
    frame = filters.apply(data.table(build, "revenue_daily"), "revenue_date")
    if frame.empty:
        data.empty_state("No revenue in this selection.")
        return
    money = [
        "gross_cents",
        "refunds_cents",
        "net_cents",
        "tax_cents",
        "provider_fee_cents",
        "platform_fee_cents",
        "organizer_payout_cents",
    ]
    frame = _money(build, frame, filters.currency, *money)
    events = data.table(build, "dim_events")[["event_id", "category_name", "organizer_name"]]
    frame = frame.merge(events, on="event_id", how="left")
    flows = frame.groupby("revenue_date", as_index=False)[["gross_cents", "refunds_cents"]].sum()
    long = flows.melt("revenue_date", var_name="flow", value_name="amount")
    long["flow"] = long["flow"].map({"gross_cents": "Sales", "refunds_cents": "Refunds"})
    st.subheader("Sales and refunds over time")
    st.altair_chart(
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(revenue_date):T", title=None),
            y=alt.Y("amount:Q", title=filters.currency),
            color=alt.Color("flow:N", scale=alt.Scale(range=["#2f7ed8", "#e4572e"])),
            tooltip=["revenue_date:T", "flow:N", alt.Tooltip("amount:Q", format=",.2f")],
        ),
        use_container_width=True,
    )
    left, right = st.columns(2)
    for column, title, key in (
        (left, "By category", "category_name"),
        (right, "By organizer", "organizer_name"),
    ):
        grouped = frame.groupby(key, as_index=False)["net_cents"].sum().nlargest(12, "net_cents")
        column.subheader(title)
        column.altair_chart(
            alt.Chart(grouped)
            .mark_bar()
            .encode(
                x=alt.X("net_cents:Q", title=f"Net ({filters.currency})"),
                y=alt.Y(f"{key}:N", sort="-x", title=None),
                tooltip=[f"{key}:N", alt.Tooltip("net_cents:Q", format=",.2f")],
            ),
            use_container_width=True,
        )
    st.subheader("Where the money goes")
    totals = frame[money].sum()
    st.dataframe(
        pd.DataFrame(
            {
                "": [
                    "Gross",
                    "Refunds",
                    "Net",
                    "Tax",
                    "Provider fees",
                    "Platform take",
                    "Organizer payout",
                ],
                filters.currency or "": [totals[name] for name in money],
            }
        ),
        hide_index=True,
    )


def events() -> None:
    started = _start("Event performance")
    if started is None:
        return
    build, filters = started
    performance = filters.apply(data.table(build, "event_performance"))
    if performance.empty:
        data.empty_state("No events in this selection.")
        return
    shown = performance.sort_values("net_revenue_cents", ascending=False)
    st.dataframe(
        shown[
            [
                "title",
                "status",
                "starts_at",
                "capacity",
                "seats_sold",
                "sell_through",
                "seats_per_day",
                "pace_vs_category",
                "projected_sellout_date",
                "waitlist_waiting",
                "check_in_rate",
                "no_show_rate",
            ]
        ],
        hide_index=True,
        use_container_width=True,
        column_config={
            "sell_through": st.column_config.ProgressColumn(
                "Sell-through", min_value=0.0, max_value=1.0, format="percent"
            )
        },
    )
    titles = dict(
        zip(shown["title"] + " · " + shown["event_id"].str[:8], shown["event_id"], strict=True)
    )
    picked = st.selectbox("Drill down into", list(titles))
    if picked is None:
        return
    event = shown[shown["event_id"] == titles[picked]].iloc[0]
    columns = st.columns(4)
    columns[0].metric("Sold", f"{int(event['seats_sold'])} / {int(event['capacity'])}")
    columns[1].metric("Seats per day", f"{event['seats_per_day']:.1f}")
    half = event["days_to_half_sold"]
    columns[2].metric("Days to 50 % sold", "not yet" if pd.isna(half) else f"{int(half)}")
    sellout = event["projected_sellout_date"]
    columns[3].metric("Projected sell-out", "—" if pd.isna(sellout) else str(sellout))
    curve = data.table(build, "event_sales_daily")
    curve = curve[curve["event_id"] == event["event_id"]]
    if curve.empty:
        data.empty_state("No sales yet for this event.")
        return
    base = alt.Chart(curve).encode(x=alt.X("sales_date:T", title=None))
    sold = base.mark_line(point=True).encode(
        y=alt.Y("seats_cumulative:Q", title="Seats sold"),
        tooltip=["sales_date:T", "seats:Q", "seats_cumulative:Q"],
    )
    capacity = (
        alt.Chart(pd.DataFrame({"capacity": [int(event["capacity"])]}))
        .mark_rule(strokeDash=[6, 4], color="#e4572e")
        .encode(y="capacity:Q")
    )
    layers = [sold, capacity]
    if not pd.isna(sellout):
        last = curve.sort_values("sales_date").iloc[-1]
        projection = pd.DataFrame(
            {
                "sales_date": [last["sales_date"], pd.Timestamp(sellout)],
                "seats_cumulative": [last["seats_cumulative"], int(event["capacity"])],
            }
        )
        layers.append(
            alt.Chart(projection)
            .mark_line(strokeDash=[2, 2], color="#888")
            .encode(x="sales_date:T", y="seats_cumulative:Q")
        )
    st.subheader("Cumulative sales against capacity")
    st.altair_chart(alt.layer(*layers), use_container_width=True)


def audience() -> None:
    started = _start("Audience")
    if started is None:
        return
    build, filters = started
    funnel = filters.apply(data.table(build, "funnel_daily"), "funnel_date")
    if not funnel.empty:
        steps = pd.DataFrame(
            {
                "step": ["Viewed", "Booking started", "Confirmed", "Paid"],
                "count": [
                    int(funnel[c].sum())
                    for c in (
                        "views",
                        "bookings_started",
                        "bookings_confirmed",
                        "payments_succeeded",
                    )
                ],
            }
        )
        st.subheader("Funnel")
        st.altair_chart(
            alt.Chart(steps)
            .mark_bar()
            .encode(
                x=alt.X("count:Q"),
                y=alt.Y("step:N", sort=None, title=None),
                tooltip=["step:N", "count:Q"],
            ),
            use_container_width=True,
        )
        started_count = max(1, int(funnel["bookings_started"].sum()))
        paid_attempts = int(funnel["payments_succeeded"].sum() + funnel["payments_failed"].sum())
        left, right = st.columns(2)
        left.metric("Holds that lapsed", f"{funnel['holds_expired'].sum() / started_count:.1%}")
        right.metric(
            "Payments that failed",
            f"{funnel['payments_failed'].sum() / max(1, paid_attempts):.1%}",
        )
    cohorts = data.table(build, "cohort_retention")
    if not cohorts.empty:
        cohorts["cohort"] = pd.to_datetime(cohorts["cohort_month"]).dt.strftime("%Y-%m")
        st.subheader("Cohort retention")
        st.altair_chart(
            alt.Chart(cohorts)
            .mark_rect()
            .encode(
                x=alt.X("months_since_first:O", title="Months after first purchase"),
                y=alt.Y("cohort:O", title="First purchase"),
                color=alt.Color("retention:Q", scale=alt.Scale(scheme="blues")),
                tooltip=[
                    "cohort:O",
                    "months_since_first:O",
                    "active_customers:Q",
                    alt.Tooltip("retention:Q", format=".0%"),
                ],
            ),
            use_container_width=True,
        )
    customers = data.table(build, "customers")
    if customers.empty:
        data.empty_state("No customers yet.")
        return
    st.subheader("Segments")
    segments = customers.groupby("segment", as_index=False).size()
    st.altair_chart(
        alt.Chart(segments)
        .mark_arc(innerRadius=60)
        .encode(theta="size:Q", color="segment:N", tooltip=["segment:N", "size:Q"]),
        use_container_width=True,
    )
    st.metric("Repeat customers", f"{customers['repeat_customer'].mean():.1%}")


def search() -> None:
    started = _start("Search analytics")
    if started is None:
        return
    search_view.render(*started)


def notifications() -> None:
    started = _start("Notifications")
    if started is None:
        return
    notifications_view.render(*started)


REPORTS = {
    "Revenue by day": ("revenue_daily", "revenue_date"),
    "Payouts per organizer": ("organizer_payouts", "month"),
    "Tax report": ("tax_report", "month"),
    "Invoice register": ("invoice_register", "issue_date"),
}


def finance() -> None:
    started = _start("Finance exports")
    if started is None:
        return
    build, filters = started
    st.write(
        "Amounts are in minor units (cents) with their ISO currency, as in the ledger. "
        "The date filter applies; organizer, category and currency filters do too."
    )
    for label, (name, date_column) in REPORTS.items():
        frame = filters.apply(data.table(build, name), date_column)
        st.subheader(label)
        st.caption(f"{len(frame):,} rows")
        columns = st.columns(3)
        columns[0].download_button(
            "CSV",
            frame.to_csv(index=False).encode(),
            f"{name}.csv",
            "text/csv",
            key=f"{name}-csv",
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
