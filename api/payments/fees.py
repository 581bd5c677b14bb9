"""Platform fees: what an organizer pays on each payment, and what is left for them."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.config import Settings
from api.payments.errors import NotAnOrganizer
from api.payments.models import OrganizerFee, Payment, PaymentStatus
from api.users import Role, User


def platform_fee(amount_cents: int, *, bps: int, fixed_cents: int) -> int:
    """Basis points of the amount, rounded half up, plus the fixed part; never above the amount."""
    fee = (amount_cents * bps + 5_000) // 10_000
    return min(amount_cents, fee + fixed_cents)


async def fee_terms(
    session: AsyncSession, settings: Settings, *, organizer_id: uuid.UUID
) -> tuple[int, int, bool]:
    """(basis points, fixed minor units, agreed with this organizer?)"""
    agreed = await session.get(OrganizerFee, organizer_id)
    if agreed is not None:
        return agreed.fee_bps, agreed.fee_fixed_cents, True
    return settings.platform_fee_bps, settings.platform_fee_fixed_cents, False


async def set_fee_terms(
    session: AsyncSession, *, organizer: User, bps: int, fixed_cents: int, actor: User
) -> OrganizerFee:
    """Agree a platform fee with an organizer; it applies to payments from now on."""
    if organizer.role not in (Role.organizer, Role.admin):
        raise NotAnOrganizer("Fees are agreed with organizers.", field="userId")
    agreed = await session.get(OrganizerFee, organizer.id)
    if agreed is None:
        agreed = OrganizerFee(organizer_id=organizer.id, fee_bps=bps, fee_fixed_cents=0)
        session.add(agreed)
    agreed.fee_bps = bps
    agreed.fee_fixed_cents = fixed_cents
    agreed.updated_by = actor.id
    await outbox.record(session, "organizer_fee.set", agreed)
    return agreed


def organizer_payout(payment: Payment) -> int:
    """What a payment leaves for the organizer: the amount less refunds and both fees."""
    if payment.status != PaymentStatus.succeeded:
        return 0
    return (
        payment.amount_cents
        - payment.refunded_cents
        - payment.provider_fee_cents
        - payment.platform_fee_cents
    )
