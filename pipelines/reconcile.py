"""Reconciliation: the marts' revenue against the OLTP database's own payments and refunds,
to the cent, per currency.

The OLTP database keeps changing while the warehouse catches up, so the comparison is made over
the payments whose latest change has landed: a payment whose status or amount in the OLTP
database differs from the warehouse's latest image, or one of whose refunds does, is in flight
and left out of both sides. Everything else must agree exactly.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import duckdb
import sqlalchemy as sa


@dataclass
class Reconciliation:
    truth: dict[str, int] = field(default_factory=dict)  # currency -> net minor units (OLTP)
    marts: dict[str, int] = field(default_factory=dict)  # currency -> net minor units (marts)
    daily: dict[str, int] = field(default_factory=dict)  # currency -> net of revenue_daily
    compared: int = 0
    in_flight: int = 0

    facts: dict[str, int] = field(default_factory=dict)  # currency -> net of every fact row

    @property
    def agrees(self) -> bool:
        """The marts match the OLTP database, and the daily mart adds up to its facts."""
        return self.truth == self.marts and self.daily == self.facts

    def metadata(self) -> dict[str, Any]:
        return {
            "oltp_net_cents": dict(sorted(self.truth.items())),
            "marts_net_cents": dict(sorted(self.marts.items())),
            "revenue_daily_net_cents": dict(sorted(self.daily.items())),
            "payments_compared": self.compared,
            "payments_in_flight": self.in_flight,
        }


def _id(value: Any) -> str:
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def reconcile(oltp: sa.Engine, warehouse: duckdb.DuckDBPyConnection) -> Reconciliation:
    with oltp.connect() as connection:
        payments = connection.execute(
            sa.text("select id, status, amount_cents, currency from payments")
        ).all()
        refunds = connection.execute(
            sa.text("select id, payment_id, status, amount_cents from refunds")
        ).all()
    # What decides revenue: status and amount (a row's version also moves for bookkeeping the
    # outbox does not announce, such as a refund's retry count).
    landed_payments = {
        row[0]: (row[1], row[2])
        for row in warehouse.execute(
            "select payment_id, status, amount_cents from staging.stg_payments"
        ).fetchall()
    }
    landed_refunds = {
        row[0]: (row[1], row[2])
        for row in warehouse.execute(
            "select refund_id, status, amount_cents from staging.stg_refunds"
        ).fetchall()
    }
    in_flight = {
        _id(row.id)
        for row in payments
        if landed_payments.get(_id(row.id)) != (row.status, row.amount_cents)
    }
    in_flight |= {
        _id(row.payment_id)
        for row in refunds
        if landed_refunds.get(_id(row.id)) != (row.status, row.amount_cents)
    }
    result = Reconciliation(in_flight=len(in_flight))
    truth: dict[str, int] = defaultdict(int)
    currency_of: dict[str, str] = {}
    for row in payments:
        payment_id = _id(row.id)
        if payment_id in in_flight or row.status != "succeeded":
            continue
        truth[row.currency] += int(row.amount_cents)
        currency_of[payment_id] = row.currency
        result.compared += 1
    for row in refunds:
        payment_id = _id(row.payment_id)
        if payment_id in currency_of and row.status == "succeeded":
            truth[currency_of[payment_id]] -= int(row.amount_cents)
    marts: dict[str, int] = defaultdict(int)
    facts: dict[str, int] = defaultdict(int)
    for payment_id, currency, gross in warehouse.execute(
        "select payment_id, currency, gross_cents from marts.fct_payments"
    ).fetchall():
        facts[currency] += int(gross)
        if payment_id not in in_flight:
            marts[currency] += int(gross)
    for payment_id, currency, amount in warehouse.execute(
        "select payment_id, currency, amount_cents from marts.fct_refunds"
    ).fetchall():
        facts[currency] -= int(amount)
        if payment_id not in in_flight:
            marts[currency] -= int(amount)
    result.truth, result.marts, result.facts = dict(truth), dict(marts), dict(facts)
    result.daily = {
        currency: int(net)
        for currency, net in warehouse.execute(
            "select currency, sum(net_cents) from marts.revenue_daily group by currency"
        ).fetchall()
    }
    return result
