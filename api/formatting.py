"""Money, rates and moments as people read them, in their locale (Babel, from CLDR data).

Amounts live as integer minor units with an ISO 4217 currency and become text only here: with the
currency's own number of minor digits (JPY none, BHD three), converted with Decimal, never a
float. Machine exports keep the integer minor units and their currency column instead.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_currency_precision,
)

DEFAULT_LOCALE = "en"
# CLDR's currency spacing, which Babel leaves out: a currency shown by letters (a code such as
# BHD or CHF) is kept from the digits by a no-break space, `BHD 1.250`, not `BHD1.250`.
_LETTERS_AGAINST_DIGITS = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


@lru_cache(maxsize=256)
def locale_of(tag: str | None) -> Locale:
    """A stored locale tag (`de-AT`, `en_GB`, `de`) as a Babel locale: the tag, else its
    language, else English, so a tag Babel does not know never stops a message."""
    cleaned = (tag or "").strip().replace("-", "_")
    for candidate in (cleaned, cleaned.split("_")[0]):
        if candidate:
            try:
                return Locale.parse(candidate)
            except (UnknownLocaleError, ValueError, TypeError):
                continue
    return Locale.parse(DEFAULT_LOCALE)


def minor_digits(currency: str) -> int:
    """How many minor-unit digits the currency has: JPY 0, EUR 2, BHD 3."""
    return int(get_currency_precision(currency.upper()))


def major_units(minor: int, currency: str) -> Decimal:
    """Integer minor units as an exact amount in the currency's major unit (1250 BHD → 1.250)."""
    return Decimal(int(minor)).scaleb(-minor_digits(currency))


def format_money(minor: int, currency: str, locale: str | None = None) -> str:
    """`€1,234.56` in English, `1.234,56 €` in German, `¥1,500`, `BHD 1.250`; without a currency,
    the number with two decimals."""
    found = locale_of(locale)
    if not currency:
        return str(format_decimal(Decimal(int(minor)).scaleb(-2), "#,##0.00", locale=found))
    text = format_currency(major_units(minor, currency), currency.upper(), locale=found)
    return _LETTERS_AGAINST_DIGITS.sub("\u00a0", str(text))


def format_rate(basis_points: int, locale: str | None = None) -> str:
    """A rate in basis points as a percentage: 1900 → `19%` (`19 %` in German), 750 → `7.5%`."""
    rate = Decimal(int(basis_points)).scaleb(-4)
    return str(format_percent(rate, locale=locale_of(locale), decimal_quantization=False))


def _zone(timezone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _instant(value: datetime | str) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def format_moment(value: datetime | str, *, locale: str | None, timezone: str | None) -> str:
    """An instant as people read it, in a time zone: `Sun, Mar 14, 2027, 7:30 PM GMT` in English,
    `So., 14. März 2027, 19:30 CET` in German. The zone's abbreviation is the tz database's, the
    same in every language."""
    moment = _instant(value)
    zone = _zone(timezone)
    found = locale_of(locale)
    day = found.datetime_skeletons.get("yMMMEd") or found.date_formats["medium"]
    time = found.time_formats["short"]
    pattern = found.datetime_formats["medium"].replace("{1}", day.pattern)
    pattern = pattern.replace("{0}", time.pattern)
    text = format_datetime(moment, pattern, tzinfo=zone, locale=found)
    return f"{text} {moment.astimezone(zone).tzname()}"


def format_day(value: date | datetime, locale: str | None = None) -> str:
    """A calendar day: `Mar 14, 2027` in English, `14.03.2027` in German."""
    return str(format_date(value, "medium", locale=locale_of(locale)))
