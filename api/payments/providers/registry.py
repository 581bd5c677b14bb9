"""The providers a deployment can reach, built once at start and closed at shutdown."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.payments.providers.base import PaymentProvider
from api.payments.providers.manual import ManualProvider
from api.payments.providers.sandbox import SandboxProvider
from api.payments.providers.stripe_provider import StripeProvider


def make_providers(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> dict[str, PaymentProvider]:
    """Every provider this deployment can reach, by name; Stripe when it has a key."""
    providers: dict[str, PaymentProvider] = {
        "sandbox": SandboxProvider(
            sessionmaker, settle_after=timedelta(seconds=settings.sandbox_settle_seconds)
        ),
        "manual": ManualProvider(),
    }
    if settings.stripe_secret_key is not None:
        providers["stripe"] = StripeProvider(
            settings.stripe_secret_key.get_secret_value(), settings.stripe_api_base
        )
    return providers


async def close_providers(providers: dict[str, PaymentProvider]) -> None:
    """Close the connections providers keep open (at shutdown)."""
    for provider in providers.values():
        if isinstance(provider, StripeProvider):
            await provider.aclose()
