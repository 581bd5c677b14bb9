"""The overview, revenue and event-performance pages."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.page import Page, start

EVENT_STATUS = {
    "draft": "Draft",
    "published": "On sale",
    "cancelled": "Cancelled",
    "completed": "Ended",
}


def overview() -> None:
    page = start("Overview")
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
    page = start("Revenue")
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
    page = start("Event performance")
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
    # The back office links an event here as ?event=<id>: open on it.
    ids = list(labels)
    wanted = [i for i, event_id in enumerate(ids) if str(event_id) == st.query_params.get("event")]
    picked = st.selectbox(
        "Drill down into",
        ids,
        index=wanted[0] if wanted else 0,
        format_func=labels.__getitem__,
    )
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
