"""Stripe's test-mode semantics the sandbox follows: its test cards, decline messages and fee."""

from __future__ import annotations

from dataclasses import dataclass

from api.payments.errors import UnknownTestCard


@dataclass(frozen=True)
class TestCard:
    number: str
    token: str
    brand: str
    outcome: str  # "succeeded", "requires_action", "processing" or a decline code
    message: str
    # What happens later, as in Stripe's test mode: "succeeded" or a failure code for a
    # payment still processing, "dispute" for one that succeeded.
    later: str | None = None


# Stripe's documented test cards and their PaymentMethod tokens.
TEST_CARDS = (
    TestCard("4242424242424242", "pm_card_visa", "visa", "succeeded", "Payment succeeded."),
    TestCard(
        "5555555555554444", "pm_card_mastercard", "mastercard", "succeeded", "Payment succeeded."
    ),
    TestCard(
        "4000000000000002",
        "pm_card_chargeDeclined",
        "visa",
        "card_declined",
        "Your card was declined.",
    ),
    TestCard(
        "4000000000009995",
        "pm_card_chargeDeclinedInsufficientFunds",
        "visa",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    TestCard(
        "4000002500003155",
        "pm_card_authenticationRequired",
        "visa",
        "requires_action",
        "This payment needs 3-D Secure authentication.",
    ),
    TestCard(
        "4000000000000259",
        "pm_card_createDispute",
        "visa",
        "succeeded",
        "Payment succeeded; the card holder disputes it later.",
        later="dispute",
    ),
    # SEPA Direct Debit test IBANs: the debit is `processing`, then clears or fails.
    TestCard(
        "DE89370400440532013000",
        "pm_sepaDebit_success",
        "sepa_debit",
        "processing",
        "The debit clears after a while.",
        later="succeeded",
    ),
    TestCard(
        "DE62370400440532013001",
        "pm_sepaDebit_failure",
        "sepa_debit",
        "processing",
        "The debit fails after a while.",
        later="insufficient_funds",
    ),
)


FAILURES = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "authentication_failed": "The card holder did not pass 3-D Secure authentication.",
}


def find_test_card(payment_method: str) -> TestCard:
    wanted = payment_method.replace(" ", "").replace("-", "")
    for card in TEST_CARDS:
        if wanted in (card.number, card.token) or wanted.upper() == card.number:
            return card
    raise UnknownTestCard(
        "The sandbox takes Stripe's test cards: "
        + ", ".join(f"{c.number} / {c.token} ({c.outcome})" for c in TEST_CARDS)
        + ".",
        field="payment_method",
    )


def stripe_card_fee(amount_cents: int) -> int:
    """Stripe's standard card pricing, 2.9 % + 30 minor units, rounded half up."""
    return (amount_cents * 29 + 500) // 1000 + 30
