"""Payment providers behind one interface: the sandbox (Stripe's test mode without an account),
Stripe, and manual payments (bank transfer, pay at the door).

A provider is another party's server. We call it outside our own transactions, always with an
idempotency key (our payment id), so a call repeated after a crash finds the first one's result
instead of charging twice.
"""

from api.payments.providers.base import (
    PaymentProvider,
    ProviderPayment,
    ProviderRefund,
    WebhookSource,
)
from api.payments.providers.manual import MANUAL_METHODS, ManualProvider
from api.payments.providers.registry import close_providers, make_providers
from api.payments.providers.sandbox import SANDBOX_STATUS, SandboxProvider
from api.payments.providers.sandbox_cards import (
    FAILURES,
    TEST_CARDS,
    TestCard,
    find_test_card,
    stripe_card_fee,
)
from api.payments.providers.sandbox_delivery import stripe_signature
from api.payments.providers.stripe_provider import STRIPE_STATUSES, StripeProvider

__all__ = [
    "FAILURES",
    "MANUAL_METHODS",
    "SANDBOX_STATUS",
    "STRIPE_STATUSES",
    "TEST_CARDS",
    "ManualProvider",
    "PaymentProvider",
    "ProviderPayment",
    "ProviderRefund",
    "SandboxProvider",
    "StripeProvider",
    "TestCard",
    "WebhookSource",
    "close_providers",
    "find_test_card",
    "make_providers",
    "stripe_card_fee",
    "stripe_signature",
]
