"""A Stripe-compatible server on loopback for the tests: localstripe (from PyPI), with two
additions: it accepts `automatic_payment_methods`, the parameter Stripe documents for
PaymentIntents that let Stripe choose the methods, and it keeps disputes (Stripe's documented
`dispute` object; `POST /v1/disputes` stands in for the card holder's bank, which is how a
dispute starts in reality). localstripe knows neither yet."""

from __future__ import annotations

import sys
from typing import Any

from localstripe import resources, server

_original_init = resources.PaymentIntent.__init__


def _init(self: Any, *args: Any, automatic_payment_methods: Any = None, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    self.automatic_payment_methods = automatic_payment_methods


resources.PaymentIntent.__init__ = _init  # type: ignore[method-assign]


class Dispute(resources.StripeObject):  # type: ignore[misc]
    object = "dispute"
    _id_prefix = "dp_"

    def __init__(self, charge: str | None = None, amount: Any = None, **_: Any) -> None:
        if charge is None:
            raise resources.UserError(400, "Bad request: charge is required")
        charge_obj = resources.Charge._api_retrieve(charge)
        super().__init__()
        self.charge = charge
        self.payment_intent = charge_obj.payment_intent
        self.amount = int(amount) if amount is not None else charge_obj.amount
        self.currency = charge_obj.currency
        self.reason = "fraudulent"
        self.status = "needs_response"


for method, handler in (("POST", server.api_create), ("GET", server.api_retrieve)):
    url = "/v1/disputes" + ("/{id}" if method == "GET" else "")
    server.app.router.add_route(method, url, handler(Dispute, url))

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "--from-scratch", *sys.argv[1:]]
    server.start()
