"""The dashboard pages. Each reads the published snapshot through the signed-in viewer's reader,
within the sidebar's filters, and shows amounts, counts and times formatted for the viewer."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from contracts.reports import REPORTS
from dashboards import access, data, notifications_view, search_view
from dashboards.formatting import Formatter

NO_SNAPSHOT = (
    "No figures are published yet. Run the pipelines (the `refresh` job in the Dagster UI, or "
    "`make up`, which runs it once) to build and publish them."
)
SIGN_IN_FIRST = "Sign in to see the dashboards."
EVENT_STATUS = {
    "draft": "Draft",
    "published": "On sale",
    "cancelled": "Cancelled",
    "completed": "Ended",
}
SEGMENTS = {
    "champions": "Champions",
    "loyal": "Loyal",
    "new": "New",
    "at risk": "At risk",
    "hibernating": "Hibernating",
    "promising": "Promising",
}
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
        st.altair_chart(chart.configure(locale=self.fmt.vega_locale()), width="stretch")


def _start(title: str) -> Page | None:
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


def overview() -> None:
    page = _start("Overview")
    if page is None:
        return
    filters, fmt = page.filters, page.fmt
    revenue = filters.apply(page.reader.table("revenue_daily"), "revenue_date")
    performance = filters.apply(page.reader.table("event_performance"))
    if revenue.empty and performance.empty:
        data.empty_state("Nothing sold yet in this selection.")
        return
    gross = int(revenue["gross_cents"].sum()) if not revenue.empty else 0
    refunds = int(revenue["refunds_cents"].sum()) if not revenue.empty else 0
    net = int(revenue["net_cents"].sum()) if not revenue.empty else 0
    columns = st.columns(5)
    columns[0].metric(
        "Net revenue", fmt.money(net, page.currency), help="Sales minus refunds, before fees."
    )
    columns[1].metric("Tickets sold", fmt.number(performance["seats_sold"].sum()))
    columns[2].metric("Events", fmt.number(len(performance)))
    columns[3].metric(
        "Paying customers",
        fmt.number(page.reader.paying_customers(filters)),
        help="People who paid for at least one ticket in this selection.",
    )
    columns[4].metric("Refund rate", fmt.percent(refunds / gross if gross else 0))
    if revenue.empty:
        return
    daily = revenue.groupby("revenue_date", as_index=False)["net_cents"].sum()
    daily = daily.assign(
        net=page.fmt.major_series(daily["net_cents"], page.currency),
        amount=page.money(daily["net_cents"]),
    )
    st.subheader("Net revenue per day")
    page.chart(
        alt.Chart(daily)
        .mark_area(opacity=0.4, line=True, point=True)
        .encode(
            x=alt.X("revenue_date:T", title=None),
            y=alt.Y("net:Q", title=f"Net revenue ({page.currency})"),
            tooltip=[
                alt.Tooltip("revenue_date:T", title="Day"),
                alt.Tooltip("amount:N", title="Net revenue"),
            ],
        )
    )
    st.subheader("Top events")
    top = (
        revenue.groupby("event_id", as_index=False)["net_cents"]
        .sum()
        .merge(page.events(), on="event_id", how="left")
        .sort_values("net_cents", ascending=False)
        .head(10)
    )
    st.dataframe(
        pd.DataFrame(
            {
                "Event": top["title"],
                "Organizer": top["organizer_name"],
                "Net revenue": page.money(top["net_cents"]),
            }
        ),
        hide_index=True,
        width="stretch",
    )


MONEY_FLOWS = {
    "gross_cents": "Sales",
    "refunds_cents": "Refunds",
    "net_cents": "Net revenue",
    "tax_cents": "Tax",
    "provider_fee_cents": "Payment provider fees",
    "platform_fee_cents": "Platform fees",
    "organizer_payout_cents": "Organizer payouts",
}


def revenue() -> None:
    page = _start("Revenue")
    if page is None:
        return
    frame = page.filters.apply(page.reader.table("revenue_daily"), "revenue_date")
    if frame.empty:
        data.empty_state("No revenue in this selection.")
        return
    frame = frame.merge(
        page.events()[["event_id", "category_name", "organizer_name"]], on="event_id", how="left"
    )
    flows = frame.groupby("revenue_date", as_index=False)[["gross_cents", "refunds_cents"]].sum()
    long = flows.melt("revenue_date", var_name="flow", value_name="cents")
    long = long.assign(
        flow=long["flow"].map(MONEY_FLOWS),
        amount=page.fmt.major_series(long["cents"], page.currency),
        label=page.money(long["cents"]),
    )
    st.subheader("Sales and refunds over time")
    page.chart(
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(revenue_date):T", title=None),
            y=alt.Y("amount:Q", title=page.currency),
            color=alt.Color("flow:N", title=None, scale=alt.Scale(range=["#e4572e", "#2f7ed8"])),
            tooltip=[
                alt.Tooltip("revenue_date:T", title="Day"),
                alt.Tooltip("flow:N", title="Flow"),
                alt.Tooltip("label:N", title="Amount"),
            ],
        )
    )
    left, right = st.columns(2)
    for column, title, key in (
        (left, "By category", "category_name"),
        (right, "By organizer", "organizer_name"),
    ):
        grouped = frame.groupby(key, as_index=False)["net_cents"].sum().nlargest(12, "net_cents")
        grouped = grouped.assign(
            net=page.fmt.major_series(grouped["net_cents"], page.currency),
            label=page.money(grouped["net_cents"]),
        )
        with column:
            st.subheader(title)
            page.chart(
                alt.Chart(grouped)
                .mark_bar()
                .encode(
                    x=alt.X("net:Q", title=f"Net revenue ({page.currency})"),
                    y=alt.Y(f"{key}:N", sort="-x", title=None),
                    tooltip=[
                        alt.Tooltip(f"{key}:N", title=title.removeprefix("By ").capitalize()),
                        alt.Tooltip("label:N", title="Net revenue"),
                    ],
                )
            )
    st.subheader("Where the money goes")
    totals = frame[list(MONEY_FLOWS)].sum()
    st.dataframe(
        pd.DataFrame(
            {
                "": list(MONEY_FLOWS.values()),
                f"Amount ({page.currency})": page.money(totals[list(MONEY_FLOWS)]),
            }
        ),
        hide_index=True,
    )


def events() -> None:
    page = _start("Event performance")
    if page is None:
        return
    performance = page.filters.apply(page.reader.table("event_performance"))
    if performance.empty:
        data.empty_state("No events in this selection.")
        return
    shown = (
        performance.drop(columns=["title"])
        .merge(page.events(), on="event_id", how="left")
        .sort_values("net_revenue_cents", ascending=False)
        .reset_index(drop=True)
    )
    fmt = page.fmt
    starts = [
        fmt.event_time(s, z) for s, z in zip(shown["starts_at"], shown["timezone"], strict=True)
    ]
    table = {
        "Event": shown["title"],
        "Organizer": shown["organizer_name"],
        "Status": shown["status"].map(EVENT_STATUS).fillna(shown["status"].str.capitalize()),
        "Starts (event's time)": starts,
        "Capacity": shown["capacity"].astype("int64"),
        "Seats sold": shown["seats_sold"].astype("int64"),
        "Sell-through": shown["sell_through"],
        "Seats per day": shown["seats_per_day"],
        "Pace vs category": shown.get("pace_vs_category"),
        "Projected sell-out": [fmt.date(d) for d in shown["projected_sellout_date"]],
        "On waiting list": shown["waitlist_waiting"].astype("int64"),
        "Checked in": shown["check_in_rate"],
        "No-shows": shown["no_show_rate"],
        "Net revenue": page.money(shown["net_revenue_cents"], shown["currency"]),
    }
    st.dataframe(
        pd.DataFrame({name: values for name, values in table.items() if values is not None}),
        hide_index=True,
        width="stretch",
        column_config={
            "Sell-through": st.column_config.ProgressColumn(
                min_value=0.0, max_value=1.0, format="percent"
            ),
            "Seats per day": st.column_config.NumberColumn(format="%.1f"),
            "Pace vs category": st.column_config.NumberColumn(
                format="%.2f x",
                help="Sell-through against the average of events in the same category "
                "(1.00 is average).",
            ),
            "Checked in": st.column_config.NumberColumn(format="percent"),
            "No-shows": st.column_config.NumberColumn(format="percent"),
        },
    )
    labels = dict(zip(shown["event_id"], shown["title"] + " · " + pd.Series(starts), strict=True))
    picked = st.selectbox("Drill down into", list(labels), format_func=labels.__getitem__)
    if picked is None:
        return
    event = shown[shown["event_id"] == picked].iloc[0]
    columns = st.columns(4)
    columns[0].metric(
        "Sold", f"{fmt.number(event['seats_sold'])} / {fmt.number(event['capacity'])}"
    )
    columns[1].metric("Seats per day", fmt.decimal(event["seats_per_day"]))
    half = event["days_to_half_sold"]
    columns[2].metric("Days to 50 % sold", "not yet" if pd.isna(half) else fmt.number(half))
    columns[3].metric("Projected sell-out", fmt.date(event["projected_sellout_date"]))
    _sales_curve(page, event)


def _sales_curve(page: Page, event: pd.Series) -> None:
    curve = page.reader.table("event_sales_daily")
    curve = curve[curve["event_id"] == event["event_id"]] if not curve.empty else curve
    if curve.empty:
        data.empty_state("No sales yet for this event.")
        return
    capacity = int(event["capacity"])
    base = alt.Chart(curve).encode(x=alt.X("sales_date:T", title=None))
    sold = base.mark_line(point=True).encode(
        y=alt.Y("seats_cumulative:Q", title="Seats sold"),
        tooltip=[
            alt.Tooltip("sales_date:T", title="Day"),
            alt.Tooltip("seats:Q", title="Seats sold that day"),
            alt.Tooltip("seats_cumulative:Q", title="Seats sold so far"),
        ],
    )
    line = (
        alt.Chart(pd.DataFrame({"capacity": [capacity]}))
        .mark_rule(strokeDash=[6, 4], color="#e4572e")
        .encode(y=alt.Y("capacity:Q"), tooltip=[alt.Tooltip("capacity:Q", title="Capacity")])
    )
    layers = [sold, line]
    sellout = event["projected_sellout_date"]
    if not pd.isna(sellout):
        last = curve.sort_values("sales_date").iloc[-1]
        projection = pd.DataFrame(
            {
                "sales_date": [last["sales_date"], pd.Timestamp(sellout)],
                "seats_cumulative": [last["seats_cumulative"], capacity],
            }
        )
        layers.append(
            alt.Chart(projection)
            .mark_line(strokeDash=[2, 2], color="#888")
            .encode(x="sales_date:T", y="seats_cumulative:Q")
        )
    st.subheader("Cumulative sales against capacity")
    page.chart(alt.layer(*layers))


FUNNEL_STEPS = {
    "views": "Viewed",
    "bookings_started": "Booking started",
    "bookings_confirmed": "Confirmed",
    "payments_succeeded": "Paid",
}


def audience() -> None:
    page = _start("Audience")
    if page is None:
        return
    fmt = page.fmt
    funnel = page.filters.apply(page.reader.table("funnel_daily"), "funnel_date")
    if not funnel.empty:
        steps = pd.DataFrame(
            {
                "step": list(FUNNEL_STEPS.values()),
                "count": [int(funnel[column].sum()) for column in FUNNEL_STEPS],
            }
        )
        st.subheader("Funnel")
        page.chart(
            alt.Chart(steps)
            .mark_bar()
            .encode(
                x=alt.X("count:Q", title="Count", axis=alt.Axis(format=",d", tickMinStep=1)),
                y=alt.Y("step:N", sort=None, title=None),
                tooltip=[
                    alt.Tooltip("step:N", title="Step"),
                    alt.Tooltip("count:Q", title="Count"),
                ],
            )
        )
        started_count = max(1, int(funnel["bookings_started"].sum()))
        paid_attempts = int(funnel["payments_succeeded"].sum() + funnel["payments_failed"].sum())
        left, right = st.columns(2)
        left.metric("Holds that lapsed", fmt.percent(funnel["holds_expired"].sum() / started_count))
        right.metric(
            "Payments that failed",
            fmt.percent(funnel["payments_failed"].sum() / max(1, paid_attempts)),
        )
    else:
        data.empty_state("No views or bookings in this selection.")
    if not page.viewer.sees_every_organizer:
        st.caption(
            "Cohorts and customer segments are measured across every organizer's customers, "
            "so they are shown to analysts, finance and admins."
        )
        return
    _cohorts(page)
    _segments(page)


def _cohorts(page: Page) -> None:
    cohorts = page.reader.table("cohort_retention")
    if cohorts.empty:
        return
    cohorts["cohort"] = pd.to_datetime(cohorts["cohort_month"]).dt.strftime("%Y-%m")
    st.subheader("Cohort retention")
    page.chart(
        alt.Chart(cohorts)
        .mark_rect()
        .encode(
            x=alt.X("months_since_first:O", title="Months after first purchase"),
            y=alt.Y("cohort:O", title="First purchase"),
            color=alt.Color(
                "retention:Q",
                title="Bought again",
                scale=alt.Scale(scheme="blues"),
                legend=alt.Legend(format=".0%"),
            ),
            tooltip=[
                alt.Tooltip("cohort:O", title="First purchase"),
                alt.Tooltip("months_since_first:O", title="Months after"),
                alt.Tooltip("active_customers:Q", title="Customers buying"),
                alt.Tooltip("retention:Q", title="Share of the cohort", format=".0%"),
            ],
        )
    )


def _segments(page: Page) -> None:
    customers = page.reader.table("customers")
    if customers.empty:
        data.empty_state("No customers yet.")
        return
    st.subheader("Segments")
    segments = customers.groupby("segment", as_index=False).size()
    segments["segment"] = segments["segment"].map(SEGMENTS).fillna(segments["segment"])
    page.chart(
        alt.Chart(segments)
        .mark_arc(innerRadius=60)
        .encode(
            theta=alt.Theta("size:Q", title="Customers"),
            color=alt.Color("segment:N", title="Segment"),
            tooltip=[
                alt.Tooltip("segment:N", title="Segment"),
                alt.Tooltip("size:Q", title="Customers"),
            ],
        )
    )
    st.metric("Repeat customers", page.fmt.percent(customers["repeat_customer"].mean()))


def search() -> None:
    page = _start("Search analytics")
    if page is None:
        return
    search_view.render(page.reader, page.filters, page.fmt)


def notifications() -> None:
    page = _start("Notifications")
    if page is None:
        return
    notifications_view.render(page.reader, page.filters, page.fmt)


def finance() -> None:
    page = _start("Finance exports")
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
