"""Signing in to the dashboards with a Tessera account, through the API: email and password for
an access and a refresh token (kept in this browser session's state, never in the browser),
the profile read each run for the role, the access token renewed when it expires, and signing
out ending the API session too."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx
import streamlit as st

from dashboards import access

API_URL_VARIABLE = "TESSERA_API_URL"
DEFAULT_API_URL = "http://127.0.0.1:8000"
TOKENS_KEY = "tessera_tokens"
NOTICE_KEY = "tessera_sign_in_notice"
# Renew the access token this long before it runs out, so a page never starts with one that
# expires halfway through.
RENEW_EARLY_SECONDS = 30
UNREACHABLE = (
    "Signing in is not possible right now: the Tessera API does not answer. Try again in a moment."
)
SESSION_ENDED = "Your session has ended. Sign in again to go on."


class ApiUnreachable(Exception):
    """The API did not answer (or answered with a server error)."""


class SignInRefused(Exception):
    """The API refused the email and password; the message says why, in the API's words."""


@dataclass(frozen=True)
class Tokens:
    access: str
    refresh: str
    access_expires_at: float  # time.time() seconds

    @classmethod
    def from_pair(cls, pair: dict[str, Any]) -> Tokens:
        return cls(
            access=str(pair["access_token"]),
            refresh=str(pair["refresh_token"]),
            access_expires_at=time.time() + float(pair["expires_in"]),
        )

    def expiring(self) -> bool:
        return time.time() >= self.access_expires_at - RENEW_EARLY_SECONDS

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


def api_url() -> str:
    return os.environ.get(API_URL_VARIABLE, DEFAULT_API_URL).rstrip("/")


@st.cache_resource(show_spinner=False)
def _client(base_url: str) -> httpx.Client:
    """One connection pool per API address, shared by every browser session."""
    return httpx.Client(
        base_url=base_url, timeout=10.0, headers={"User-Agent": "tessera-dashboards"}
    )


def _call(method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = dict(kwargs.pop("headers", {}))
    browser_ip = st.context.ip_address
    # The browser's address, which the API's rate limits count when it trusts this host.
    if isinstance(browser_ip, str) and browser_ip:
        headers["X-Forwarded-For"] = browser_ip
    try:
        response = _client(api_url()).request(method, path, headers=headers, **kwargs)
    except httpx.TransportError as error:
        raise ApiUnreachable(str(error)) from error
    if response.status_code >= 500:
        raise ApiUnreachable(f"{response.status_code} from {path}")
    return response


def _problem(response: httpx.Response, fallback: str) -> str:
    try:
        body = response.json()
    except ValueError:
        return fallback
    return str(body.get("detail") or body.get("title") or fallback)


def sign_in(email: str, password: str) -> Tokens:
    """Exchange email and password for tokens, or say why not."""
    response = _call("POST", "/auth/login", json={"email": email, "password": password})
    if response.status_code == 200:
        return Tokens.from_pair(response.json())
    if response.status_code == 422:
        raise SignInRefused("Enter your email address and your password.")
    raise SignInRefused(_problem(response, "Signing in did not work. Try again."))


def _renew(tokens: Tokens) -> Tokens | None:
    """A new token pair for the refresh token (which stops working), or None when the session
    is over (signed out elsewhere, suspended, or the refresh token expired)."""
    response = _call("POST", "/auth/refresh", json={"refresh_token": tokens.refresh})
    if response.status_code != 200:
        return None
    renewed = Tokens.from_pair(response.json())
    # Kept before anything else runs: the old refresh token is spent now.
    st.session_state[TOKENS_KEY] = renewed
    return renewed


def _profile(tokens: Tokens) -> dict[str, Any] | None:
    response = _call("GET", "/users/profile", headers=tokens.headers)
    if response.status_code == 401:
        return None
    if response.status_code != 200:
        raise ApiUnreachable(f"{response.status_code} from /users/profile")
    return dict(response.json())


def _forget(notice: str | None) -> None:
    st.session_state.pop(TOKENS_KEY, None)
    st.session_state.pop(access.VIEWER_KEY, None)
    if notice:
        st.session_state[NOTICE_KEY] = notice


def signed_in_viewer() -> access.Viewer | None:
    """Who is signed in this run, checked with the API (so a changed role or a suspension
    counts at once), renewing the access token when it has expired; None when nobody is, or
    when the account may not open the dashboards (its session is then ended)."""
    st.session_state.pop(access.VIEWER_KEY, None)
    tokens = st.session_state.get(TOKENS_KEY)
    if not isinstance(tokens, Tokens):
        return None
    if tokens.expiring():
        tokens = _renew(tokens)
    profile = None if tokens is None else _profile(tokens)
    if profile is None and tokens is not None:  # refused before we thought it expired
        tokens = _renew(tokens)
        profile = None if tokens is None else _profile(tokens)
    if tokens is None or profile is None:
        _forget(SESSION_ENDED)
        return None
    viewer = access.Viewer.from_profile(profile)
    if not viewer.may_open_dashboards:
        sign_out(notice=access.refusal(viewer), error=True)
        return None
    st.session_state[access.VIEWER_KEY] = viewer
    return viewer


def sign_out(notice: str | None = None, *, error: bool = False) -> None:
    """End the API session of this browser session (best effort) and forget its tokens."""
    tokens = st.session_state.get(TOKENS_KEY)
    if isinstance(tokens, Tokens):
        # The tokens are forgotten here either way; unreachable, the session runs out alone.
        with contextlib.suppress(ApiUnreachable):
            _call(
                "POST",
                "/auth/logout",
                headers=tokens.headers,
                json={"refresh_token": tokens.refresh},
            )
    _forget(None)
    if notice:
        st.session_state[NOTICE_KEY] = ("error", notice) if error else ("info", notice)


def sign_in_page() -> None:
    """The only page anyone signed out sees."""
    st.title("Sign in to Tessera analytics")
    notice = st.session_state.pop(NOTICE_KEY, None)
    if isinstance(notice, tuple):
        kind, text = notice
        (st.error if kind == "error" else st.info)(text)
    elif isinstance(notice, str):
        st.info(notice)
    with st.form("sign-in"):
        email = st.text_input("Email", autocomplete="email")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    st.caption(
        "Sign in with your Tessera account. Admins and finance see everything, analysts see "
        "every organizer's figures without personal data, and organizers see their own events."
    )
    if not submitted:
        return
    try:
        tokens = sign_in(email.strip(), password)
    except SignInRefused as refused:
        st.error(str(refused))
        return
    except ApiUnreachable:
        st.error(UNREACHABLE)
        return
    st.session_state[TOKENS_KEY] = tokens
    st.rerun()


def sidebar(viewer: access.Viewer) -> None:
    """Who is signed in, and the way out, under the page list of every page."""
    st.sidebar.caption(f"Signed in as **{viewer.name or viewer.email}** · {viewer.role_label}")
    if st.sidebar.button("Sign out", icon=":material/logout:"):
        sign_out(notice="You have signed out.")
        st.rerun()
