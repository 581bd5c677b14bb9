"""A booking line's money: net, tax and gross in integer minor units, rounded per line.

The rule (documented in the README): a line's amount is unit price * quantity. With a tax rate
of r basis points, an inclusive price is the gross and net = gross * 10000 / (10000 + r); an
exclusive price is the net and tax = net * r / 10000. The one division is rounded half up, once
per line; tax is the difference, so net + tax = gross exactly, and the booking's total is the sum
of its lines' gross.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineMoney:
    net_cents: int
    tax_cents: int
    gross_cents: int


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def price_line(
    *, unit_price_cents: int, quantity: int, tax_rate_bps: int, tax_inclusive: bool
) -> LineMoney:
    amount = unit_price_cents * quantity
    if tax_rate_bps == 0:
        return LineMoney(amount, 0, amount)
    if tax_inclusive:
        net = _half_up(amount * 10_000, 10_000 + tax_rate_bps)
        return LineMoney(net, amount - net, amount)
    tax = _half_up(amount * tax_rate_bps, 10_000)
    return LineMoney(amount, tax, amount + tax)
