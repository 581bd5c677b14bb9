"""Signing in with Google, Microsoft, Apple, GitHub or Facebook, and linking those accounts.

Every authorization request has a single-use state bound to the browser that started it (the
hash of a cookie), a nonce for the OpenID providers and a PKCE verifier. A sign-in finds the
identity by provider and subject; a first one creates the account, and joins an existing
account only when the provider vouches for the email address and the account's owner has
verified that address with us too. Anything else would let whoever controls a provider
account with someone's address take over their Tessera account.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.auth import oauth
from api.auth.browser import BrowserSession, open_browser_session
from api.auth.errors import (
    AccountInactive,
    OAuthAccountExists,
    OAuthDenied,
    OAuthEmailMissing,
    OAuthIdentityTaken,
    OAuthIdTokenInvalid,
    OAuthLastSignInMethod,
    OAuthNotLinked,
    OAuthProviderFailed,
    OAuthProviderUnknown,
    OAuthStateInvalid,
    OAuthStateMissing,
    OAuthStateReused,
)
from api.auth.models import OAuthIdentity, OAuthState
from api.auth.schemas import TokenPair
from api.auth.service import open_session
from api.config import Settings
from api.db import utcnow
from api.users import service as users

if TYPE_CHECKING:
    from api.users import User


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def callback_url(settings: Settings, provider: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/auth/oauth/{provider}/callback"


def provider_or_raise(settings: Settings, provider: str) -> oauth.ProviderInfo:
    for info in oauth.configured(settings):
        if info.name == provider:
            return info
    raise OAuthProviderUnknown(
        f"Signing in with {provider!r} is not offered here.", field="provider"
    )


@dataclass(frozen=True)
class Started:
    authorization_url: str
    browser_token: str  # goes in a cookie; the callback must come from the same browser


async def start(
    session: AsyncSession,
    settings: Settings,
    http: httpx.AsyncClient,
    *,
    provider: str,
    browser_token: str | None,
    link_user: User | None = None,
    return_to: str | None = None,
) -> Started:
    """A new authorization request: its state, nonce and verifier are kept (hashed where they
    are credentials) until the callback, for `oauth_state_ttl_seconds` at most."""
    info = provider_or_raise(settings, provider)
    state, verifier = oauth.new_secret(), oauth.new_secret()
    nonce = oauth.new_secret() if info.openid else None
    browser = browser_token or oauth.new_secret()
    try:
        url = await oauth.authorization_url(
            settings,
            http,
            provider,
            redirect_uri=callback_url(settings, provider),
            state=state,
            nonce=nonce,
            code_verifier=verifier,
        )
    except oauth.ProviderError as exc:
        raise OAuthProviderFailed(f"{info.display_name} could not be reached.") from exc
    now = utcnow()
    session.add(
        OAuthState(
            state_hash=_hash(state),
            provider=provider,
            browser_hash=_hash(browser),
            nonce=nonce,
            code_verifier=verifier,
            link_user_id=link_user.id if link_user else None,
            return_to=return_to,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.oauth_state_ttl_seconds),
        )
    )
    return Started(url, browser)


async def page_to_return_to(
    session: AsyncSession, *, provider: str, state: str | None
) -> str | None:
    """Whether a callback answers a sign-in started from a page (and so is finished by the
    page, which signs the browser in by cookie): that page's path, else None. Reads only; the
    state is spent by `consume_state`."""
    if not state:
        return None
    return await session.scalar(
        select(OAuthState.return_to).where(
            OAuthState.state_hash == _hash(state), OAuthState.provider == provider
        )
    )


async def consume_state(
    session: AsyncSession,
    *,
    provider: str,
    state: str | None,
    browser_token: str | None,
) -> OAuthState:
    """The request a callback answers, marked used and committed, so a replay fails even if the
    rest of the sign-in does. Refuses a missing, unknown, expired, used or foreign state
    (another provider's, or started in another browser)."""
    if not state:
        raise OAuthStateMissing("The provider's answer has no state.", field="state")
    now = utcnow()
    # Spend it first, in one conditional write, so of two callbacks racing with one state
    # exactly one wins. A refusal below rolls the write back with the request.
    claimed = await session.execute(
        update(OAuthState)
        .where(
            OAuthState.state_hash == _hash(state),
            OAuthState.provider == provider,
            OAuthState.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    found = await session.get(OAuthState, _hash(state), populate_existing=True)
    if found is None or found.provider != provider:
        raise OAuthStateInvalid("This sign-in was not started here; start again.", field="state")
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise OAuthStateReused("This sign-in was already completed; start again.", field="state")
    if browser_token is None or not hmac.compare_digest(found.browser_hash, _hash(browser_token)):
        raise OAuthStateInvalid(
            "This sign-in was started in another browser; start again.", field="state"
        )
    if found.expires_at < now:
        raise OAuthStateInvalid("This sign-in took too long; start again.", field="state")
    await session.commit()  # the state is spent whatever happens next
    return found


async def profile_from_callback(
    settings: Settings,
    http: httpx.AsyncClient,
    *,
    provider: str,
    request: OAuthState,
    code: str | None,
    error: str | None,
) -> oauth.Profile:
    info = oauth.PROVIDERS[provider]
    if error:
        raise OAuthDenied(f"{info.display_name} did not sign you in ({error}).", field="error")
    if not code:
        raise OAuthDenied(f"{info.display_name} sent no authorization code.", field="code")
    try:
        return await oauth.exchange(
            settings,
            http,
            provider,
            code=code,
            redirect_uri=callback_url(settings, provider),
            code_verifier=request.code_verifier,
            nonce=request.nonce,
        )
    except oauth.IdTokenInvalid as exc:
        raise OAuthIdTokenInvalid(f"{info.display_name}'s ID token is not valid: {exc}") from exc
    except oauth.ProviderError as exc:
        raise OAuthProviderFailed(f"{info.display_name} did not complete the sign-in.") from exc


@dataclass(frozen=True)
class Outcome:
    identity: OAuthIdentity
    tokens: TokenPair | None  # a sign-in; None when a signed-in user linked an account
    created: bool
    browser: BrowserSession | None = None  # a sign-in started from a page


async def complete(
    session: AsyncSession,
    settings: Settings,
    *,
    provider: str,
    request: OAuthState,
    profile: oauth.Profile,
    user_agent: str | None,
    ip: str | None,
) -> Outcome:
    """Sign in (or up) with the provider's account, or link it to the user who asked."""
    identity = await session.scalar(
        select(OAuthIdentity).where(
            OAuthIdentity.provider == provider, OAuthIdentity.subject == profile.subject
        )
    )
    if request.link_user_id is not None:
        return await _link(
            session, provider=provider, request=request, profile=profile, identity=identity
        )
    created = False
    if identity is not None:
        user = await users.get_or_raise(session, user_id=identity.user_id)
    else:
        if not profile.email:
            raise OAuthEmailMissing(
                f"{oauth.PROVIDERS[provider].display_name} did not share an email address; "
                "allow it, or sign up with email and password.",
                field="email",
            )
        existing = await users.get_by_email(session, email=profile.email)
        if existing is not None:
            if not (profile.email_verified and existing.email_verified_at is not None):
                raise OAuthAccountExists(
                    "An account with this email address exists. Sign in with your password "
                    f"and link {oauth.PROVIDERS[provider].display_name} in your settings.",
                    field="email",
                )
            user = existing
        else:
            user = await users.create(
                session,
                email=profile.email,
                full_name=profile.name or profile.email.split("@")[0],
                password_hash=None,
                email_verified=profile.email_verified,
            )
            created = True
        identity = await _add_identity(session, user=user, provider=provider, profile=profile)
    if user.status != users.UserStatus.active:
        raise AccountInactive("This account is suspended; contact support.")
    identity.last_login_at = utcnow()
    identity.email, identity.display_name = profile.email, profile.name
    await users.mark_logged_in(session, user=user)
    if request.return_to is not None:  # started from a page: the browser gets the cookie
        opened = await open_browser_session(
            session, settings, user=user, user_agent=user_agent, ip=ip
        )
        return Outcome(identity, None, created, opened)
    tokens = await open_session(session, settings, user=user, user_agent=user_agent, ip=ip)
    return Outcome(identity, tokens, created)


async def _add_identity(
    session: AsyncSession, *, user: User, provider: str, profile: oauth.Profile
) -> OAuthIdentity:
    identity = OAuthIdentity(
        user_id=user.id,
        provider=provider,
        subject=profile.subject,
        email=profile.email,
        email_verified=profile.email_verified,
        display_name=profile.name,
    )
    session.add(identity)
    await outbox.record(session, "user.identity_linked", identity)
    return identity


async def _link(
    session: AsyncSession,
    *,
    provider: str,
    request: OAuthState,
    profile: oauth.Profile,
    identity: OAuthIdentity | None,
) -> Outcome:
    assert request.link_user_id is not None
    if identity is not None:
        if identity.user_id != request.link_user_id:
            raise OAuthIdentityTaken(
                "This account is already linked to another Tessera account.", field="provider"
            )
        return Outcome(identity, None, False)
    mine = await session.scalar(
        select(OAuthIdentity).where(
            OAuthIdentity.user_id == request.link_user_id, OAuthIdentity.provider == provider
        )
    )
    if mine is not None:
        raise OAuthIdentityTaken(
            f"You already linked another {oauth.PROVIDERS[provider].display_name} account; "
            "unlink it first.",
            field="provider",
        )
    user = await users.get_or_raise(session, user_id=request.link_user_id)
    return Outcome(
        await _add_identity(session, user=user, provider=provider, profile=profile), None, False
    )


async def identities(session: AsyncSession, *, user_id: uuid.UUID) -> list[OAuthIdentity]:
    return list(
        await session.scalars(
            select(OAuthIdentity)
            .where(OAuthIdentity.user_id == user_id)
            .order_by(OAuthIdentity.created_at)
        )
    )


async def unlink(session: AsyncSession, *, user: User, provider: str) -> None:
    """Remove a linked account, unless it is the last way to sign in."""
    identity = await session.scalar(
        select(OAuthIdentity).where(
            OAuthIdentity.user_id == user.id, OAuthIdentity.provider == provider
        )
    )
    if identity is None:
        raise OAuthNotLinked(f"No {provider} account is linked.", field="provider")
    others = await session.scalar(
        select(func.count())
        .select_from(OAuthIdentity)
        .where(OAuthIdentity.user_id == user.id, OAuthIdentity.id != identity.id)
    )
    if user.password_hash is None and not others:
        raise OAuthLastSignInMethod(
            "This is the only way you sign in: set a password (reset it by email) or link "
            "another account first.",
            field="provider",
        )
    await outbox.record(session, "user.identity_unlinked", identity)
    await session.delete(identity)


async def forget(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    """Remove every linked account of a user being erased (they hold personal data)."""
    for identity in await identities(session, user_id=user_id):
        await outbox.record(session, "user.identity_unlinked", identity)
        await session.delete(identity)
