"""Tax on ticket types: net, tax and gross per line, rounded half up once per line."""

from __future__ import annotations

import pytest

from api.bookings.money import LineMoney, price_line
from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_bookings import _book
from tests.api.test_events import published_event, ticket_body
from tests.api.test_payments import _pay


@pytest.mark.parametrize(
    ("unit", "quantity", "rate", "inclusive", "expected"),
    [
        (2500, 3, 1900, True, LineMoney(6303, 1197, 7500)),  # 7500 / 1.19 = 6302.52...
        (1000, 1, 700, False, LineMoney(1000, 70, 1070)),
        (3, 1, 1950, False, LineMoney(3, 1, 4)),  # 0.585 rounds up
        (1, 1, 1950, False, LineMoney(1, 0, 1)),  # 0.195 rounds down
        (5, 1, 2500, False, LineMoney(5, 1, 6)),  # 1.25 rounds down
        (2, 1, 2500, False, LineMoney(2, 1, 3)),  # 0.5 exactly rounds up
        (119, 1, 1900, True, LineMoney(100, 19, 119)),
        (0, 4, 1900, True, LineMoney(0, 0, 0)),
        (999, 2, 0, True, LineMoney(1998, 0, 1998)),
    ],
)
def test_line_money_is_exact_and_rounded_half_up_per_line(
    unit: int, quantity: int, rate: int, inclusive: bool, expected: LineMoney
) -> None:
    money = price_line(
        unit_price_cents=unit, quantity=quantity, tax_rate_bps=rate, tax_inclusive=inclusive
    )
    assert money == expected
    assert money.net_cents + money.tax_cents == money.gross_cents


async def test_bookings_show_tax_per_line_and_charge_the_gross(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(
        api,
        owner,
        tickets=[
            ticket_body(
                name="Standard",
                price_cents=2500,
                quantity=50,
                tax_name="VAT",
                tax_rate_bps=1900,
                tax_country="DE",
            ),
            ticket_body(
                name="Workshop",
                price_cents=1000,
                quantity=50,
                tax_name="Sales tax",
                tax_rate_bps=700,
                tax_inclusive=False,
            ),
        ],
    )
    assert event["ticket_types"][0]["tax_rate_bps"] == 1900
    buyer = await api.signed_in()
    booked = await _book(api, buyer, event, (0, 3), (1, 1))
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    lines = {line["tax_name"]: line for line in booking["lines"]}
    assert (lines["VAT"]["net_cents"], lines["VAT"]["tax_cents"]) == (6303, 1197)
    assert (lines["Sales tax"]["tax_cents"], lines["Sales tax"]["gross_cents"]) == (70, 1070)
    assert (booking["total_cents"], booking["tax_cents"]) == (8570, 1267)
    paid = await _pay(api, buyer, booking, "pm_card_visa")
    assert paid.json()["amount_cents"] == 8570
    bad = await api.client.post(
        f"/events/{event['id']}/ticket-types",
        headers=owner.headers,
        json=ticket_body(name="Odd", quantity=1, tax_rate_bps=10_001),
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "body.tax_rate_bps")
