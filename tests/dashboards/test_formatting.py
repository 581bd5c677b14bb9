"""Amounts by their currency's minor units and the reader's locale, and times in the event's
own time zone (Babel)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from dashboards.formatting import Formatter

ENGLISH = Formatter.of("en", "UTC", {"EUR": 2, "JPY": 0})
GERMAN = Formatter.of("de-DE", "Europe/Berlin", {"EUR": 2, "JPY": 0})


@pytest.mark.parametrize(
    ("formatter", "minor", "currency", "expected"),
    [
        (ENGLISH, 123456, "EUR", "€1,234.56"),
        (GERMAN, 123456, "EUR", "1.234,56\xa0€"),
        (ENGLISH, 90152, "JPY", "¥90,152"),  # no minor unit: yen are yen
        (GERMAN, 90152, "JPY", "90.152\xa0¥"),
        (ENGLISH, 1234567, "BHD", "BHD\xa01,234.567"),  # three decimals (not in our seed)
        (GERMAN, 1234567, "BHD", "1.234,567\xa0BHD"),
        (ENGLISH, -2000, "EUR", "-€20.00"),
        (ENGLISH, None, "EUR", "—"),
    ],
)
def test_money_by_currency_and_locale(
    formatter: Formatter, minor: int | None, currency: str, expected: str
) -> None:
    assert formatter.money(minor, currency) == expected


def test_the_marts_minor_units_win_over_babel_s() -> None:
    # A currency whose minor units the marts record differently is shown as recorded.
    assert Formatter.of("en", None, {"EUR": 3}).money(123456, "EUR") == "€123.456"


def test_numbers_and_shares_by_locale() -> None:
    assert ENGLISH.number(1234567) == "1,234,567"
    assert GERMAN.number(1234567) == "1.234.567"
    assert ENGLISH.percent(0.1234) == "12.3%"
    assert GERMAN.percent(0.1234) == "12,3\xa0%"
    assert GERMAN.decimal(3.456) == "3,5"
    assert ENGLISH.number(float("nan")) == "—"


def test_event_times_in_the_event_s_own_zone() -> None:
    starts = pd.Timestamp("2030-07-01T18:00:00Z")
    assert ENGLISH.event_time(starts, "Europe/Berlin") == "Jul 1, 2030, 8:00\u202fPM CEST"
    assert GERMAN.event_time(starts, "Europe/Berlin") == "01.07.2030, 20:00 CEST"
    assert GERMAN.event_time(starts, "Asia/Tokyo") == "02.07.2030, 03:00 JST"
    assert ENGLISH.event_time(starts, None) == "Jul 1, 2030, 6:00\u202fPM UTC"  # no zone known


def test_other_times_in_the_reader_s_zone_and_days_by_locale() -> None:
    built = datetime(2030, 1, 1, 18, 0, tzinfo=UTC)
    assert GERMAN.moment(built) == "01.01.2030, 19:00 CET"
    assert ENGLISH.moment(built.isoformat()) == "Jan 1, 2030, 6:00\u202fPM UTC"
    assert GERMAN.date(date(2030, 7, 1)) == "01.07.2030"
    assert ENGLISH.date("2030-07-01") == "Jul 1, 2030"


def test_charts_get_the_locale_s_separators_and_month_names() -> None:
    locale = GERMAN.vega_locale()
    assert (locale["number"]["decimal"], locale["number"]["thousands"]) == (",", ".")
    assert locale["time"]["months"][2] == "März"
    assert locale["time"]["days"][0] == "Sonntag"
