"""Money, numbers and times as people read them, in the signed-in person's language (Babel):
amounts by their currency's minor units (no decimals for JPY, three for BHD), times in the
event's own time zone, separators and month names by locale."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_currency_precision,
    get_currency_symbol,
)

DEFAULT_LOCALE = "en"
UTC = ZoneInfo("UTC")
MISSING = "—"


def parse_locale(tag: str | None) -> Locale:
    """A profile's locale ("de", "de-DE"), or English when it names none Babel knows."""
    try:
        return Locale.parse((tag or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


def zone(name: str | None) -> ZoneInfo:
    """An IANA time zone, or UTC when there is none (an event loaded without one)."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _missing(value: object) -> bool:
    return value is None or bool(pd.isna(value))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Formatter:
    """Formats for one reader: their locale, their own time zone (for times that belong to no
    event), and the minor units of each currency as the marts record them."""

    locale: Locale = field(default_factory=lambda: parse_locale(DEFAULT_LOCALE))
    timezone: ZoneInfo = UTC
    minor_units: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(
        cls, locale: str | None, timezone: str | None, minor_units: Mapping[str, int] | None = None
    ) -> Formatter:
        return cls(parse_locale(locale), zone(timezone), dict(minor_units or {}))

    def digits(self, currency: str) -> int:
        """Minor units of a currency: the marts' table, else Babel's (CLDR) data."""
        if currency in self.minor_units:
            return int(self.minor_units[currency])
        return int(get_currency_precision(currency))

    def major(self, minor: int, currency: str) -> Decimal:
        """An amount in minor units (cents) as one in the currency (euros; yen stay yen)."""
        return Decimal(int(minor)).scaleb(-self.digits(currency))

    def major_series(self, minor: pd.Series, currency: str) -> pd.Series:
        """For charts, which plot floats: minor units divided into the currency's units."""
        return minor.astype("float64") / 10 ** self.digits(currency)

    def money(self, minor: Any, currency: str) -> str:
        """1234567 EUR cents: "€12,345.67" in English, "12.345,67 €" in German."""
        if _missing(minor):
            return MISSING
        digits = self.digits(currency)
        pattern = self.locale.currency_formats["standard"].pattern
        if digits != get_currency_precision(currency):
            # The marts disagree with CLDR: show the marts' minor units.
            pattern = _with_decimals(pattern, digits)
        text = format_currency(
            self.major(minor, currency),
            currency,
            format=pattern,
            locale=self.locale,
            currency_digits=digits == get_currency_precision(currency),
        )
        return _spaced(text, get_currency_symbol(currency, locale=self.locale))

    def number(self, value: Any) -> str:
        """A count, grouped: 12,345 (English), 12.345 (German)."""
        if _missing(value):
            return MISSING
        return format_decimal(int(value), locale=self.locale)

    def decimal(self, value: Any, places: int = 1) -> str:
        """A measured quantity with a fixed number of decimals: 3.5 seats per day."""
        if _missing(value):
            return MISSING
        pattern = "#,##0." + "0" * places if places else "#,##0"
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, share: Any, places: int = 1) -> str:
        """A share (0.123) as the locale writes percentages: 12.3% (English), 12,3 % (German)."""
        if _missing(share):
            return MISSING
        pattern = _with_decimals(self.locale.percent_formats[None].pattern, places)
        return format_percent(share, format=pattern, locale=self.locale)

    def date(self, value: Any) -> str:
        """A calendar day: Jul 1, 2030 (English), 01.07.2030 (German)."""
        if _missing(value):
            return MISSING
        day = pd.Timestamp(value).date() if not isinstance(value, date) else value
        if isinstance(day, datetime):
            day = day.date()
        return format_date(day, "medium", locale=self.locale)

    def event_time(self, moment: Any, timezone: str | None) -> str:
        """An event's time in the event's own zone: "Jul 1, 2030, 8:00 PM CEST"."""
        if _missing(moment):
            return MISSING
        return self._at(_aware(moment).astimezone(zone(timezone)))

    def moment(self, moment: Any) -> str:
        """A time that belongs to no event (a build, a search), in the reader's own zone."""
        if _missing(moment):
            return MISSING
        return self._at(_aware(moment).astimezone(self.timezone))

    def _at(self, local: datetime) -> str:
        day = format_date(local, "medium", locale=self.locale)
        clock = format_time(local, "short", locale=self.locale)
        return f"{day}, {clock} {local.tzname()}"

    def vega_locale(self) -> dict[str, Any]:
        """The locale for Vega-Lite charts, so axes and tooltips group and name months as the
        rest of the page does."""
        symbols = self.locale.number_symbols["latn"]
        months = self.locale.months["format"]
        days = self.locale.days["format"]
        sunday_first = [6, 0, 1, 2, 3, 4, 5]
        return {
            "number": {
                "decimal": symbols["decimal"],
                "thousands": symbols["group"],
                "grouping": [3],
                "currency": ["", ""],
            },
            "time": {
                "dateTime": "%x, %X",
                "date": "%Y-%m-%d",
                "time": "%H:%M:%S",
                "periods": [
                    self.locale.day_periods["format"]["abbreviated"].get("am", "AM"),
                    self.locale.day_periods["format"]["abbreviated"].get("pm", "PM"),
                ],
                "days": [days["wide"][i] for i in sunday_first],
                "shortDays": [days["abbreviated"][i] for i in sunday_first],
                "months": [months["wide"][i] for i in range(1, 13)],
                "shortMonths": [months["abbreviated"][i] for i in range(1, 13)],
            },
        }


def _with_decimals(pattern: str, places: int) -> str:
    """A Babel number pattern ("#,##0 %", "¤#,##0.00") with exactly `places` decimals."""
    pattern = pattern.split(";")[0]
    head, dot, tail = pattern.partition(".")
    if dot:  # "¤#,##0.00" -> "¤#,##0" + the rest after the zeros
        rest = tail.lstrip("0#")
        pattern = head + rest
    last = pattern.rfind("0")
    decimals = "." + "0" * places if places else ""
    return pattern[: last + 1] + decimals + pattern[last + 1 :]


def _spaced(text: str, symbol: str) -> str:
    """CLDR's currency spacing, which Babel leaves out: a symbol of letters ("BHD") is kept
    apart from the digits by a no-break space, as "€" and "¥" need not be."""
    if symbol[-1:].isalpha():
        text = re.sub(rf"{re.escape(symbol)}(?=\d)", symbol + "\xa0", text)
    if symbol[:1].isalpha():
        text = re.sub(rf"(?<=\d){re.escape(symbol)}", "\xa0" + symbol, text)
    return text


def _aware(moment: Any) -> datetime:
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.to_pydatetime()
