"""The notifications page: how the variants of each campaign convert, whether the difference
is more than chance, and what was sent and failed per day."""

from __future__ import annotations

import math
from dataclasses import dataclass

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.formatting import Formatter
from dashboards.page import show_chart

EMPTY = (
    "Notification analytics appear here once messages go out: how each campaign's variants "
    "convert, and what was sent and failed per day."
)
CONTROL = "A"
SIGNIFICANCE = 0.05
# The normal approximation behind the z-test holds once each variant has this many
# conversions and this many non-conversions.
MIN_EXPECTED = 5


@dataclass(frozen=True)
class ZTest:
    z: float
    p_value: float


def two_proportion_z_test(
    converted_a: int, users_a: int, converted_b: int, users_b: int
) -> ZTest | None:
    """Two-sided z-test of B's conversion rate against A's (pooled standard error); None when a
    side has no users. Equal rates of 0 or 1 on both sides differ by nothing: p = 1."""
    if users_a <= 0 or users_b <= 0:
        return None
    pooled = (converted_a + converted_b) / (users_a + users_b)
    error = math.sqrt(pooled * (1 - pooled) * (1 / users_a + 1 / users_b))
    difference = converted_b / users_b - converted_a / users_a
    if error == 0:
        return ZTest(z=0.0, p_value=1.0)
    z = difference / error
    return ZTest(z=z, p_value=math.erfc(abs(z) / math.sqrt(2)))


def _enough(converted: int, users: int) -> bool:
    return converted >= MIN_EXPECTED and users - converted >= MIN_EXPECTED


def significance_hint(control: pd.Series, variant: pd.Series) -> str:
    """In words: does this variant convert differently from the control?"""
    users_a, converted_a = int(control["users_reached"]), int(control["converted_users"])
    users_b, converted_b = int(variant["users_reached"]), int(variant["converted_users"])
    test = two_proportion_z_test(converted_a, users_a, converted_b, users_b)
    if test is None or not (_enough(converted_a, users_a) and _enough(converted_b, users_b)):
        return "Too few users to tell"
    if test.p_value < SIGNIFICANCE:
        better = "better" if test.z > 0 else "worse"
        return f"Converts {better} than {control['variant']} (p = {test.p_value:.3f})"
    return f"No clear difference yet (p = {test.p_value:.2f})"


def compare_variants(rows: pd.DataFrame) -> pd.DataFrame:
    """One campaign and channel's variants, each with its lift, p-value and a hint against
    the control (variant A, else the first by name)."""
    rows = rows.sort_values("variant").reset_index(drop=True)
    variants = list(rows["variant"])
    control = rows.iloc[variants.index(CONTROL) if CONTROL in variants else 0]
    lifts: list[float | None] = []
    p_values: list[float | None] = []
    hints: list[str] = []
    for _, row in rows.iterrows():
        if row["variant"] == control["variant"]:
            lifts.append(None)
            p_values.append(None)
            hints.append("Control")
            continue
        base = control["conversion_rate"]
        rate = row["conversion_rate"]
        lifts.append(rate / base - 1 if pd.notna(base) and pd.notna(rate) and base else None)
        test = two_proportion_z_test(
            int(control["converted_users"]),
            int(control["users_reached"]),
            int(row["converted_users"]),
            int(row["users_reached"]),
        )
        p_values.append(None if test is None else test.p_value)
        hints.append(significance_hint(control, row))
    return rows.assign(lift=lifts, p_value=p_values, hint=hints)


def render(reader: data.Reader, filters: data.Filters, fmt: Formatter) -> None:
    """The variants of a campaign (all time) and the daily volumes (within the sidebar's
    dates; the other filters do not apply to notifications)."""
    variants = reader.table("notification_variant_conversion")
    daily = reader.table("notifications_daily")
    if variants.empty and daily.empty:
        data.empty_state(EMPTY)
        return
    _variants(variants, fmt)
    _daily(filters.apply(daily, "notification_date"), fmt)


def _variants(variants: pd.DataFrame, fmt: Formatter) -> None:
    st.subheader("A/B variants")
    if variants.empty:
        data.empty_state("No campaign with variants has been sent yet.")
        return
    st.caption(
        "All time. A user converts by confirming a booking of any event within 7 days after "
        "a message was sent (same event: a booking of the event the message was about). "
        f"Each variant is compared with the control ({CONTROL}, else the first) by a two-sided "
        "two-proportion z-test on users reached."
    )
    latest = variants.groupby("campaign")["last_sent_at"].max().sort_values(ascending=False)
    campaign = st.selectbox("Campaign", list(latest.index))
    if campaign is None:
        return
    shown = variants[variants["campaign"] == campaign]
    compared = pd.concat(
        [compare_variants(rows) for _, rows in shown.groupby("channel", sort=True)],
        ignore_index=True,
    )
    st.dataframe(
        compared.assign(channel=_words(compared["channel"]))[
            [
                "channel",
                "variant",
                "notifications_sent",
                "users_reached",
                "notifications_delivered",
                "notifications_read",
                "converted_users",
                "conversion_rate",
                "same_event_conversion_rate",
                "lift",
                "p_value",
                "hint",
            ]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "channel": "Channel",
            "variant": "Variant",
            "notifications_sent": "Sent",
            "users_reached": "Users reached",
            "notifications_delivered": "Delivered",
            "notifications_read": "Read (in-app)",
            "converted_users": "Converted users",
            "conversion_rate": st.column_config.NumberColumn("Conversion", format="percent"),
            "same_event_conversion_rate": st.column_config.NumberColumn(
                "Same-event conversion", format="percent"
            ),
            "lift": st.column_config.NumberColumn("Lift vs control", format="percent"),
            "p_value": st.column_config.NumberColumn("p-value", format="%.3f"),
            "hint": "Significance",
        },
    )
    show_chart(
        alt.Chart(compared)
        .mark_bar()
        .encode(
            x=alt.X("conversion_rate:Q", title="Conversion", axis=alt.Axis(format="%")),
            y=alt.Y("variant:N", title=None),
            yOffset="channel:N",
            color=alt.Color("channel:N", title="Channel"),
            tooltip=[
                "channel:N",
                "variant:N",
                alt.Tooltip("users_reached:Q", title="Users reached"),
                alt.Tooltip("converted_users:Q", title="Converted"),
                alt.Tooltip("conversion_rate:Q", title="Conversion", format=".1%"),
                alt.Tooltip("hint:N", title="Significance"),
            ],
        ),
        fmt,
    )


def _daily(daily: pd.DataFrame, fmt: Formatter) -> None:
    st.subheader("Sent and failed per day")
    if daily.empty:
        data.empty_state("No notifications in these dates.")
        return
    columns = st.columns(5)
    columns[0].metric("Sent", fmt.number(daily["sent"].sum()))
    columns[1].metric("Delivered", fmt.number(daily["delivered"].sum()))
    columns[2].metric(
        "Retried",
        fmt.number(daily["retried"].sum()),
        help="Notifications with a failed attempt and another scheduled.",
    )
    columns[3].metric(
        "Failed",
        fmt.number(daily["failed"].sum()),
        help="Notifications the provider reported undeliverable (a bounce).",
    )
    columns[4].metric("Given up", fmt.number(daily["dead"].sum()))
    per_day = (
        daily.assign(
            notification_date=pd.to_datetime(daily["notification_date"]),
            failed=daily["failed"] + daily["dead"],
        )
        .groupby("notification_date", as_index=False)[["sent", "failed"]]
        .sum()
        .melt("notification_date", var_name="step", value_name="notifications")
    )
    per_day["step"] = per_day["step"].map({"sent": "Sent", "failed": "Failed or given up"})
    show_chart(
        alt.Chart(per_day)
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonthdate(notification_date):T", title=None),
            y=alt.Y("notifications:Q", title="Notifications"),
            color=alt.Color(
                "step:N",
                title=None,
                scale=alt.Scale(
                    domain=["Sent", "Failed or given up"], range=["#2f7ed8", "#e4572e"]
                ),
            ),
            tooltip=[
                alt.Tooltip("notification_date:T", title="Day"),
                alt.Tooltip("step:N", title="Step"),
                alt.Tooltip("notifications:Q", title="Notifications"),
            ],
        ),
        fmt,
    )
    by_trigger = (
        daily.groupby(["trigger", "channel"], as_index=False, dropna=False)[
            ["queued", "sent", "delivered", "read", "retried", "failed", "dead"]
        ]
        .sum()
        .sort_values("sent", ascending=False)
    )
    st.dataframe(
        by_trigger.assign(
            trigger=_words(by_trigger["trigger"]), channel=_words(by_trigger["channel"])
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "trigger": "Trigger",
            "channel": "Channel",
            "queued": "Queued",
            "sent": "Sent",
            "delivered": "Delivered",
            "read": "Read",
            "retried": "Retried",
            "failed": "Failed",
            "dead": "Given up",
        },
    )


def _words(codes: pd.Series) -> pd.Series:
    """Codes as words: "reminder_24h" -> "Reminder 24h", "sms" -> "Sms"."""
    return codes.fillna("").astype(str).str.replace("_", " ").str.capitalize()
