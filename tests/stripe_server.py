"""A Stripe-compatible server on loopback for the tests: localstripe (from PyPI), with one
addition: it accepts `automatic_payment_methods`, the parameter Stripe documents for
PaymentIntents that let Stripe choose the methods (localstripe does not know it yet)."""

from __future__ import annotations

import sys
from typing import Any

from localstripe import resources, server

_original_init = resources.PaymentIntent.__init__


def _init(self: Any, *args: Any, automatic_payment_methods: Any = None, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    self.automatic_payment_methods = automatic_payment_methods


resources.PaymentIntent.__init__ = _init  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "--from-scratch", *sys.argv[1:]]
    server.start()
