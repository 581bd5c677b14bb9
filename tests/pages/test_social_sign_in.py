"""Social sign-in from the sign-in page against the OpenID provider on loopback, on both
databases: the buttons of the configured providers, the provider's answer handed from the
API's registered callback to the page, and the browser signed in by cookie, not by tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_social_login import _at_provider, op, settings_overrides
from tests.oauth_provider import Provider

__all__ = ["op", "settings_overrides"]


async def test_a_visitor_signs_up_with_a_provider_and_lands_signed_in(
    api: Api, op: Provider
) -> None:
    page = await api.client.get("/account/sign-in", params={"next": "/my/bookings"})
    assert "Continue with Google" in page.text
    assert 'href="/account/sign-in/google?next=/my/bookings"' in page.text
    assert "Continue with GitHub" in (await api.client.get("/account/sign-up")).text

    started = await api.client.get("/account/sign-in/google", params={"next": "/my/bookings"})
    assert started.status_code == 303
    assert "tessera_oauth" in started.headers["set-cookie"]
    answer = await _at_provider(started.headers["location"])
    callback = await api.client.get("/auth/oauth/google/callback", params=answer)
    assert callback.status_code == 303  # handed on to the page, not answered with tokens
    handed = urlsplit(callback.headers["location"])
    assert handed.path == "/account/sign-in/google/callback"
    assert (await api.outbox("user.logged_in")) == []

    finished = await api.client.get(callback.headers["location"])
    assert finished.status_code == 303, finished.text
    assert finished.headers["location"] == "/my/bookings"
    assert "access_token" not in finished.text
    assert "tessera_session" in api.client.cookies
    mine = await api.client.get("/my/bookings")
    assert mine.status_code == 200
    assert "Rae Ray" in mine.text  # signed in as the provider's person
    [registered] = await api.outbox("user.identity_linked")
    assert registered.payload["provider"] == "google"

    # The answer cannot be used twice.
    again = await api.client.get(callback.headers["location"])
    assert again.status_code == 400
    assert "already completed" in again.text


async def test_a_refused_provider_answer_is_explained_on_the_sign_in_page(
    api: Api, op: Provider
) -> None:
    # An unverified address that matches an existing account is not taken over.
    await api.make_user(role=Role.attendee, email="rae@example.com")
    op.user = {**op.user, "email_verified": False}
    started = await api.client.get("/account/sign-in/google")
    answer = await _at_provider(started.headers["location"])
    callback = await api.client.get("/auth/oauth/google/callback", params=answer)
    refused = await api.client.get(callback.headers["location"])
    assert refused.status_code == 409
    assert "An account with this email address exists." in refused.text
    assert "Continue with Google" in refused.text  # try again, or sign in with the password
    assert "tessera_session" not in api.client.cookies

    stranger = await api.client.get(
        "/account/sign-in/google/callback", params={"state": "made-up", "code": "x"}
    )
    assert stranger.status_code == 400
    unknown = await api.client.get("/account/sign-in/myspace")
    assert unknown.status_code == 404
    assert "text/html" in unknown.headers["content-type"]
