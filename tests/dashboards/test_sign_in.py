"""Signing in to the dashboards through the API: nothing shows before; a wrong password and an
attendee account are refused; an expired access token is renewed with the refresh token; signing
out ends the API session."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from dashboards.auth import TOKENS_KEY, Tokens
from tests.dashboards.support import (
    PAGES,
    metrics,
    opened,
    shown,
    signed_in,
    submit,
    visit,
)
from tests.dashboards.world import World, jwt_key

SIGN_IN_TITLE = "Sign in to Tessera analytics"


def _refresh_works(api_url: str, refresh_token: str) -> bool:
    answer = httpx.post(f"{api_url}/auth/refresh", json={"refresh_token": refresh_token})
    return answer.status_code == 200


def test_signed_out_sees_the_sign_in_form_and_no_data(dashboards: World) -> None:
    app = opened()

    assert [title.value for title in app.title] == [SIGN_IN_TITLE]
    assert [field.label for field in app.text_input] == ["Email", "Password"]
    assert not app.metric
    assert not app.dataframe
    assert not [element for element in app if "chart" in element.type]
    assert not app.get("download_button")
    assert "Harbour Jazz Night" not in shown(app).text
    for page in PAGES:  # no page is registered to switch to
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            visit(app, page)


def test_a_wrong_password_is_refused_with_the_api_s_reason(dashboards: World) -> None:
    app = submit(opened(), dashboards.account("admin").email, "not-the-password")

    assert [title.value for title in app.title] == [SIGN_IN_TITLE]
    assert [error.value for error in app.error] == ["The email or password is not correct."]
    assert TOKENS_KEY not in app.session_state


def test_an_attendee_is_refused(dashboards: World, dashboard_api: str) -> None:
    attendee = dashboards.account("attendee")

    app = submit(opened(), attendee.email, attendee.password)

    assert [title.value for title in app.title] == [SIGN_IN_TITLE]
    [refusal] = app.error
    assert "attendee account, which has no access to the analytics dashboards" in refusal.value
    assert TOKENS_KEY not in app.session_state
    assert not app.metric
    assert "Harbour Jazz Night" not in shown(app).text


def test_an_expired_access_token_is_renewed(dashboards: World, dashboard_api: str) -> None:
    app = signed_in(dashboards.account("analyst"))
    first: Tokens = app.session_state[TOKENS_KEY]
    # The access token runs out while the dashboards still believe it good: the API says so.
    key = jwt_key()
    claims = jwt.decode(first.access, options={"verify_signature": False})
    now = int(time.time())
    expired = jwt.encode({**claims, "iat": now - 3600, "exp": now - 60}, key, algorithm="HS256")
    answer = httpx.get(
        f"{dashboard_api}/users/profile", headers={"Authorization": f"Bearer {expired}"}
    )
    assert answer.json()["code"] == "auth.token_expired"
    app.session_state[TOKENS_KEY] = Tokens(expired, first.refresh, time.time() + 600)

    app.run()

    assert not app.exception
    assert metrics(app)["Tickets sold"] == "8"
    second: Tokens = app.session_state[TOKENS_KEY]
    assert second.access != expired
    assert second.refresh != first.refresh
    # And before it runs out by the clock, the dashboards renew it themselves.
    app.session_state[TOKENS_KEY] = Tokens(second.access, second.refresh, time.time())

    app.run()

    third: Tokens = app.session_state[TOKENS_KEY]
    assert third.refresh != second.refresh
    assert metrics(app)["Tickets sold"] == "8"
    # A spent refresh token used again (a stolen copy) ends the session, here too.
    assert not _refresh_works(dashboard_api, first.refresh)

    app.run()

    assert [title.value for title in app.title] == [SIGN_IN_TITLE]
    assert [info.value for info in app.info] == ["Your session has ended. Sign in again to go on."]
    assert TOKENS_KEY not in app.session_state


def test_signing_out_ends_the_session(dashboards: World, dashboard_api: str) -> None:
    app = signed_in(dashboards.account("finance"))
    tokens: Tokens = app.session_state[TOKENS_KEY]

    [sign_out] = [button for button in app.sidebar.button if button.label == "Sign out"]
    sign_out.click()
    app.run()

    assert not app.exception
    assert [title.value for title in app.title] == [SIGN_IN_TITLE]
    assert [info.value for info in app.info] == ["You have signed out."]
    assert TOKENS_KEY not in app.session_state
    assert not _refresh_works(dashboard_api, tokens.refresh)
    profile = httpx.get(f"{dashboard_api}/users/profile", headers=tokens.headers)
    assert profile.status_code == 401
