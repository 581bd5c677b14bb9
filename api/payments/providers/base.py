"""What every payment provider offers, and the answers it gives.

A provider is another party's server. We call it outside our own transactions, always with an
idempotency key (our payment id), so a call repeated after a crash finds the first one's result
instead of charging twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from api.payments.models import PaymentStatus, RefundStatus


@dataclass(frozen=True)
class PaymentRequest:
    """A payment to ask a provider for. `idempotency_key` is our payment id: asked again, the
    provider answers with the payment it made the first time."""

    amount_cents: int
    currency: str
    payment_method: str
    idempotency_key: str
    metadata: dict[str, str]


@dataclass(frozen=True)
class ProviderPayment:
    """A provider's payment as it stands now."""

    ref: str
    status: PaymentStatus
    fee_cents: int = 0
    method: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    client_secret: str | None = None
    next_action: dict[str, Any] | None = field(default=None)


@dataclass(frozen=True)
class ProviderRefund:
    ref: str
    status: RefundStatus
    failure_code: str | None = None
    # As read back from the provider: the payment it refunds and how much.
    payment_ref: str | None = None
    amount_cents: int | None = None


class PaymentProvider(Protocol):
    name: str

    def check(self, payment_method: str) -> None:
        """Refuse (422) a payment method this provider cannot take, before anything is recorded."""

    async def create(self, request: PaymentRequest) -> ProviderPayment: ...

    async def retrieve(self, ref: str) -> ProviderPayment: ...

    async def refund(
        self, *, ref: str, amount_cents: int, idempotency_key: str
    ) -> ProviderRefund: ...


class WebhookSource(Protocol):
    """A provider that announces changes through webhooks; the handler reads each object again
    from it, so a forged, repeated or late event can only re-apply the provider's truth."""

    name: str

    async def retrieve(self, ref: str) -> ProviderPayment: ...

    async def retrieve_refund(self, ref: str) -> tuple[str | None, ProviderRefund]: ...

    async def refunds_of_charge(self, charge_id: str) -> list[str]: ...

    async def dispute_amount(self, dispute_id: str) -> tuple[str, int]: ...
